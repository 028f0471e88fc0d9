#include "domain/quota.hpp"

#include <gtest/gtest.h>

namespace quotad::domain {
namespace {

instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}} + std::chrono::hours{hh} +
         std::chrono::minutes{mm} + std::chrono::seconds{ss};
}

constexpr micro_credits credits(std::int64_t whole) { return whole * micro_per_credit; }

// Anchored at 2027-01-01T00:00:00Z in UTC unless a test says otherwise.
definition def(duration d, micro_credits limit) {
  return definition{d, limit, anchor::make(utc(2027, 1, 1), find_zone("UTC"))};
}

// 2027-03-10T12:00:00Z: DAY window 03-10..03-11, MONTH 03-01..04-01.
const instant now = utc(2027, 3, 10, 12);

quota_set make_set(std::vector<definition> defs, instant at = now) {
  EXPECT_FALSE(validate_and_sort(defs));
  quota_set set;
  set.assign(defs, at);
  return set;
}

// ---- validate_and_sort -------------------------------------------------------

TEST(ValidateAndSort, SortsShortestFirst) {
  std::vector<definition> defs{def(duration::month, credits(10)), def(duration::day, credits(5)),
                               def(duration::hour, unlimited), def(duration::year, 0)};
  EXPECT_FALSE(validate_and_sort(defs));
  ASSERT_EQ(defs.size(), 4u);
  EXPECT_EQ(defs[0].dur, duration::hour);
  EXPECT_EQ(defs[1].dur, duration::day);
  EXPECT_EQ(defs[1].limit, credits(5));
  EXPECT_EQ(defs[2].dur, duration::month);
  EXPECT_EQ(defs[3].dur, duration::year);
}

TEST(ValidateAndSort, EmptyListIsValid) {
  std::vector<definition> defs;
  EXPECT_FALSE(validate_and_sort(defs));
}

TEST(ValidateAndSort, RejectsDuplicateDuration) {
  std::vector<definition> defs{def(duration::day, credits(5)), def(duration::month, credits(10)),
                               def(duration::day, credits(7))};
  auto error = validate_and_sort(defs);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->index, 2u);
  EXPECT_EQ(error->field, "duration");
  EXPECT_EQ(error->detail, "duplicate duration DAY");
}

TEST(ValidateAndSort, LimitMustBeUnlimitedOrInRange) {
  for (micro_credits limit : {unlimited, micro_credits{0}, micro_credits{1}, max_input}) {
    std::vector<definition> defs{def(duration::day, limit)};
    EXPECT_FALSE(validate_and_sort(defs)) << limit;
  }
  for (micro_credits limit : {micro_credits{-2}, credits(-1), max_input + 1, max_sum}) {
    std::vector<definition> defs{def(duration::hour, 0), def(duration::day, limit)};
    auto error = validate_and_sort(defs);
    ASSERT_TRUE(error) << limit;
    EXPECT_EQ(error->index, 1u);
    EXPECT_EQ(error->field, "credit_limit");
  }
}

TEST(ValidateAndSort, RejectsMissingZone) {
  definition no_zone = def(duration::week, credits(1));
  no_zone.start.zone = nullptr;
  std::vector<definition> defs{def(duration::day, credits(5)), no_zone};
  auto error = validate_and_sort(defs);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->index, 1u);
  EXPECT_EQ(error->field, "time_zone");
}

// ---- state ---------------------------------------------------------------------

TEST(QuotaSet, UnknownUntilAssigned) {
  quota_set set;
  EXPECT_FALSE(set.known());
  EXPECT_TRUE(set.quotas().empty());
  EXPECT_FALSE(set.lowest());
}

TEST(QuotaSet, EmptyListIsKnownAndUnlimited) {
  quota_set set = make_set({});
  EXPECT_TRUE(set.known());
  EXPECT_FALSE(set.lowest());
  debit_decision decision = set.decide(credits(1000));
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.violated, 0);
}

TEST(QuotaSet, AssignSetsWindowsForNow) {
  quota_set set = make_set({def(duration::month, credits(100)), def(duration::day, credits(5))});
  ASSERT_EQ(set.quotas().size(), 2u);
  EXPECT_EQ(set.quotas()[0].def.dur, duration::day);
  EXPECT_EQ(set.quotas()[0].current, (window{utc(2027, 3, 10), utc(2027, 3, 11)}));
  EXPECT_EQ(set.quotas()[0].used, 0);
  EXPECT_EQ(set.quotas()[1].current, (window{utc(2027, 3, 1), utc(2027, 4, 1)}));
}

TEST(QuotaSet, ClearForgetsEverything) {
  quota_set set = make_set({def(duration::day, credits(5))});
  set.clear();
  EXPECT_FALSE(set.known());
  EXPECT_TRUE(set.quotas().empty());
}

// ---- remaining -------------------------------------------------------------------

TEST(Remaining, LimitMinusUsed) {
  quota q{def(duration::day, credits(500)), {}, credits(13)};
  EXPECT_EQ(q.remaining(), credits(487));
}

TEST(Remaining, UnlimitedIsMinusOne) {
  quota q{def(duration::day, unlimited), {}, credits(13)};
  EXPECT_EQ(q.remaining(), unlimited);
}

TEST(Remaining, NeverNegativeAfterLoweringTheLimit) {
  quota_set set = make_set({def(duration::day, credits(500))});
  set.set_used(0, credits(450));
  // The client's limit drops to 100; the usage in the window stays 450.
  set.assign({def(duration::day, credits(100))}, now);
  set.set_used(0, credits(450));
  EXPECT_EQ(set.quotas()[0].used, credits(450));
  EXPECT_EQ(set.quotas()[0].remaining(), 0);
  debit_decision decision = set.decide(micro_credits{1});
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.violated, 0b1);
}

// ---- decide / apply ------------------------------------------------------------------

TEST(Debit, AllowedDebitCountsInEveryWindow) {
  quota_set set = make_set({def(duration::hour, unlimited), def(duration::day, credits(5)),
                            def(duration::month, credits(100))});
  debit_decision decision = set.decide(credits(3));
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.violated, 0);
  set.apply(credits(3));
  EXPECT_EQ(set.quotas()[0].used, credits(3));  // unlimited windows count too
  EXPECT_EQ(set.quotas()[1].used, credits(3));
  EXPECT_EQ(set.quotas()[2].used, credits(3));
  EXPECT_EQ(set.quotas()[1].remaining(), credits(2));
  EXPECT_EQ(set.quotas()[2].remaining(), credits(97));
}

TEST(Debit, ExactlyTheRemainingIsAllowed) {
  quota_set set = make_set({def(duration::day, credits(5))});
  set.set_used(0, credits(2));
  EXPECT_TRUE(set.decide(credits(3)).allowed);
  EXPECT_FALSE(set.decide(credits(3) + 1).allowed);
}

TEST(Debit, RefusalCountsNothing) {
  quota_set set = make_set({def(duration::day, credits(5)), def(duration::month, credits(100))});
  set.set_used(0, credits(3));
  set.set_used(1, credits(3));
  debit_decision decision = set.decide(credits(5));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.violated, 0b01);
  EXPECT_EQ(set.quotas()[0].used, credits(3));
  EXPECT_EQ(set.quotas()[1].used, credits(3));
}

TEST(Debit, OneViolatedWindowRefusesTheWholeDebit) {
  // DAY has room, MONTH does not: nothing is counted anywhere.
  quota_set set = make_set({def(duration::day, credits(10)), def(duration::month, credits(100))});
  set.set_used(1, credits(98));
  debit_decision decision = set.decide(credits(5));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.violated, 0b10);
  EXPECT_EQ(set.quotas()[0].used, 0);
  EXPECT_EQ(set.quotas()[1].used, credits(98));
}

TEST(Debit, EveryViolatedWindowIsReported) {
  quota_set set = make_set({def(duration::second, unlimited), def(duration::day, credits(4)),
                            def(duration::week, credits(50)), def(duration::month, credits(3))});
  EXPECT_EQ(set.decide(credits(5)).violated, 0b1010);
  EXPECT_EQ(set.decide(credits(4)).violated, 0b1000);
  EXPECT_EQ(set.decide(credits(51)).violated, 0b1110);
}

TEST(Debit, ZeroCreditsAlwaysAllowed) {
  quota_set set = make_set({def(duration::day, 0)});
  EXPECT_TRUE(set.decide(0).allowed);
  EXPECT_FALSE(set.decide(1).allowed);
}

TEST(Debit, TenMillionDebitsOfOneTenthAreExactlyOneMillion) {
  quota_set set = make_set({def(duration::day, unlimited), def(duration::year, credits(1'000'000))});
  micro_credits tenth = parse_credits("0.1").value;
  for (int i = 0; i < 10'000'000; ++i) set.apply(tenth);
  EXPECT_EQ(set.quotas()[0].used, credits(1'000'000));
  EXPECT_EQ(format_credits(set.quotas()[0].used), "1000000");
  EXPECT_EQ(set.quotas()[1].remaining(), 0);
  EXPECT_FALSE(set.decide(1).allowed);
}

TEST(Debit, UsedSaturates) {
  quota_set set = make_set({def(duration::day, unlimited)});
  set.set_used(0, max_sum - 5);
  set.apply(max_input);
  EXPECT_EQ(set.quotas()[0].used, max_sum);
}

// ---- lowest / reported violation / retry -------------------------------------------

TEST(Lowest, FewestRemainingAmongLimited) {
  quota_set set = make_set({def(duration::hour, unlimited), def(duration::day, credits(10)),
                            def(duration::month, credits(100))});
  EXPECT_EQ(set.lowest(), 1u);
  set.set_used(2, credits(95));  // MONTH: 5 left, DAY: 10 left
  EXPECT_EQ(set.lowest(), 2u);
}

TEST(Lowest, TieGoesToTheShorterDuration) {
  quota_set set = make_set({def(duration::month, credits(100)), def(duration::day, credits(10))});
  set.set_used(1, credits(90));  // both have 10 left
  EXPECT_EQ(set.quotas()[0].def.dur, duration::day);
  EXPECT_EQ(set.lowest(), 0u);
  set.set_used(0, credits(10));  // both exhausted
  set.set_used(1, credits(150));
  EXPECT_EQ(set.lowest(), 0u);
}

TEST(Lowest, AllUnlimitedIsTheShortest) {
  quota_set set = make_set({def(duration::month, unlimited), def(duration::minute, unlimited)});
  ASSERT_EQ(set.lowest(), 0u);
  EXPECT_EQ(set.quotas()[0].def.dur, duration::minute);
  EXPECT_EQ(set.quotas()[0].remaining(), unlimited);
}

TEST(ReportedViolation, FewestRemainingAmongViolated) {
  quota_set set = make_set({def(duration::hour, credits(1)), def(duration::day, credits(4)),
                            def(duration::month, credits(3))});
  // 5 credits violate all three; HOUR has the fewest left (1), then MONTH (3).
  debit_decision decision = set.decide(credits(5));
  EXPECT_EQ(decision.violated, 0b111);
  EXPECT_EQ(set.reported_violation(0b110), 2u);
  EXPECT_EQ(set.reported_violation(decision.violated), 0u);
}

TEST(ReportedViolation, TieGoesToTheShorterDuration) {
  quota_set set = make_set({def(duration::day, credits(3)), def(duration::month, credits(3))});
  debit_decision decision = set.decide(credits(5));
  EXPECT_EQ(decision.violated, 0b11);
  EXPECT_EQ(set.reported_violation(decision.violated), 0u);
}

TEST(RetryAt, LatestEndAmongViolated) {
  quota_set set = make_set({def(duration::hour, credits(100)), def(duration::day, credits(3)),
                            def(duration::month, credits(4))});
  debit_decision decision = set.decide(credits(5));
  EXPECT_EQ(decision.violated, 0b110);
  EXPECT_EQ(format_iso_utc(set.retry_at(decision.violated)), "2027-04-01T00:00:00Z");
  EXPECT_EQ(format_iso_utc(set.retry_at(0b010)), "2027-03-11T00:00:00Z");
  EXPECT_EQ(format_iso_utc(set.retry_at(0b001)), "2027-03-10T13:00:00Z");
}

// ---- renew ---------------------------------------------------------------------------

TEST(Renew, EndedWindowsStartAtZero) {
  quota_set set = make_set({def(duration::day, credits(5)), def(duration::month, credits(100))});
  set.apply(credits(4));
  EXPECT_FALSE(set.renew(utc(2027, 3, 10, 23, 59, 59)));  // same windows
  EXPECT_EQ(set.quotas()[0].used, credits(4));

  EXPECT_FALSE(set.renew(utc(2027, 3, 11)));  // the DAY window has ended
  EXPECT_EQ(set.quotas()[0].current, (window{utc(2027, 3, 11), utc(2027, 3, 12)}));
  EXPECT_EQ(set.quotas()[0].used, 0);
  EXPECT_EQ(set.quotas()[1].current, (window{utc(2027, 3, 1), utc(2027, 4, 1)}));
  EXPECT_EQ(set.quotas()[1].used, credits(4));

  EXPECT_FALSE(set.renew(utc(2027, 5, 2, 8)));  // both ended, several windows skipped
  EXPECT_EQ(set.quotas()[0].current, (window{utc(2027, 5, 2), utc(2027, 5, 3)}));
  EXPECT_EQ(set.quotas()[1].current, (window{utc(2027, 5, 1), utc(2027, 6, 1)}));
  EXPECT_EQ(set.quotas()[1].used, 0);
}

TEST(Renew, ClockSetBackIsReported) {
  quota_set set = make_set({def(duration::day, credits(5)), def(duration::month, credits(100))});
  set.apply(credits(4));
  EXPECT_TRUE(set.renew(utc(2027, 3, 9, 12)));
  EXPECT_EQ(set.quotas()[0].current, (window{utc(2027, 3, 9), utc(2027, 3, 10)}));
  EXPECT_EQ(set.quotas()[0].used, 0);
  EXPECT_EQ(set.quotas()[1].used, credits(4));  // MONTH window unchanged
}

}  // namespace
}  // namespace quotad::domain
