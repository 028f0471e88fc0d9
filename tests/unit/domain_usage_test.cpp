#include "domain/usage.hpp"

#include <gtest/gtest.h>

namespace quotad::domain {
namespace {

constexpr micro_credits credits(std::int64_t whole) { return whole * micro_per_credit; }

const date::time_zone* zone(const char* name) {
  const date::time_zone* z = find_zone(name);
  EXPECT_NE(z, nullptr) << name;
  return z;
}

void expect_day(const day_total& day, std::int64_t start, const char* date, micro_credits total) {
  EXPECT_EQ(day.start, start) << date;
  EXPECT_EQ(day.date, date);
  EXPECT_EQ(day.credits, total) << date;
}

TEST(DailyUsage, NothingFedNothingReturned) {
  daily_usage usage(zone("UTC"));
  EXPECT_TRUE(usage.finish().empty());
}

TEST(DailyUsage, GroupsByUtcDay) {
  daily_usage usage(zone("UTC"));
  usage.add(1796119200, credits(2));  // 2026-12-01T10:00:00Z
  usage.add(1796169599, 500'000);     // 2026-12-01T23:59:59Z
  usage.add(1796169600, credits(1));  // 2026-12-02T00:00:00Z
  usage.add(1796472000, credits(3));  // 2026-12-05T12:00:00Z
  std::vector<day_total> days = usage.finish();
  ASSERT_EQ(days.size(), 3u);
  expect_day(days[0], 1796083200, "2026-12-01", 2'500'000);
  expect_day(days[1], 1796169600, "2026-12-02", credits(1));
  expect_day(days[2], 1796428800, "2026-12-05", credits(3));
}

TEST(DailyUsage, GroupsByLocalDay) {
  daily_usage usage(zone("Europe/Berlin"));
  usage.add(1796079599, credits(1));  // 2026-11-30T22:59:59Z = 23:59:59 CET on the 30th
  usage.add(1796081400, credits(2));  // 2026-11-30T23:30:00Z = 00:30 CET on 12-01
  std::vector<day_total> days = usage.finish();
  ASSERT_EQ(days.size(), 2u);
  expect_day(days[0], 1795993200, "2026-11-30", credits(1));  // 2026-11-29T23:00:00Z
  expect_day(days[1], 1796079600, "2026-12-01", credits(2));  // 2026-11-30T23:00:00Z
}

TEST(DailyUsage, TwentyThreeHourDay) {
  daily_usage usage(zone("Europe/Berlin"));
  usage.add(1806193800, credits(1));  // 2027-03-28T00:30:00Z = 01:30 CET
  usage.add(1806271199, credits(1));  // 2027-03-28T21:59:59Z = 23:59:59 CEST
  usage.add(1806271200, credits(1));  // 2027-03-28T22:00:00Z = 03-29 00:00 CEST
  std::vector<day_total> days = usage.finish();
  ASSERT_EQ(days.size(), 2u);
  expect_day(days[0], 1806188400, "2027-03-28", credits(2));  // 2027-03-27T23:00:00Z
  expect_day(days[1], 1806271200, "2027-03-29", credits(1));
}

TEST(DailyUsage, MidnightInAGapStartsAfterTheGap) {
  // Santiago, 2026-09-06: 00:00 (-04) jumps to 01:00 (-03) at 04:00Z.
  daily_usage usage(zone("America/Santiago"));
  usage.add(1788667199, credits(1));  // 2026-09-06T03:59:59Z = 09-05 23:59:59 -04
  usage.add(1788696000, credits(4));  // 2026-09-06T12:00:00Z = 09:00 -03
  std::vector<day_total> days = usage.finish();
  ASSERT_EQ(days.size(), 2u);
  expect_day(days[0], 1788580800, "2026-09-05", credits(1));  // 2026-09-05T04:00:00Z
  expect_day(days[1], 1788667200, "2026-09-06", credits(4));  // 2026-09-06T04:00:00Z
}

TEST(DailyUsage, AmbiguousMidnightStartsAtTheFirstOccurrence) {
  // Havana, 2027-11-07: 01:00 CDT falls back to 00:00 CST at 05:00Z, so the
  // day runs from 04:00Z to 2027-11-08T05:00Z (25 hours).
  daily_usage usage(zone("America/Havana"));
  usage.add(1825559999, credits(1));  // 2027-11-07T03:59:59Z = 11-06 23:59:59 CDT
  usage.add(1825561800, credits(1));  // 2027-11-07T04:30:00Z = 00:30 CDT
  usage.add(1825565400, credits(1));  // 2027-11-07T05:30:00Z = 00:30 CST
  usage.add(1825649999, credits(1));  // 2027-11-08T04:59:59Z = 23:59:59 CST
  usage.add(1825650000, credits(1));  // 2027-11-08T05:00:00Z = 11-08 00:00 CST
  std::vector<day_total> days = usage.finish();
  ASSERT_EQ(days.size(), 3u);
  expect_day(days[0], 1825473600, "2027-11-06", credits(1));  // 2027-11-06T04:00:00Z
  expect_day(days[1], 1825560000, "2027-11-07", credits(3));  // 2027-11-07T04:00:00Z
  expect_day(days[2], 1825650000, "2027-11-08", credits(1));
}

TEST(DailyUsage, DaysWithoutUsageAreLeftOut) {
  daily_usage usage(zone("UTC"));
  usage.add(1796119200, 0);           // 2026-12-01: only a zero entry
  usage.add(1796169600, credits(1));  // 2026-12-02
  usage.add(1796472000, 0);           // 2026-12-05: only a zero entry
  std::vector<day_total> days = usage.finish();
  ASSERT_EQ(days.size(), 1u);
  expect_day(days[0], 1796169600, "2026-12-02", credits(1));
}

TEST(DailyUsage, TotalsAreExactAndSaturate) {
  daily_usage usage(zone("UTC"));
  for (int i = 0; i < 10; ++i) usage.add(1796119200 + i, 100'000);  // 0.1 ten times
  usage.add(1796169600, max_sum);
  usage.add(1796169601, max_input);
  std::vector<day_total> days = usage.finish();
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].credits, credits(1));
  EXPECT_EQ(days[1].credits, max_sum);
}

}  // namespace
}  // namespace quotad::domain
