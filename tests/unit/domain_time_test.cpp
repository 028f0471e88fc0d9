#include "domain/time.hpp"

#include <gtest/gtest.h>

namespace quotad::domain {
namespace {

using namespace std::chrono_literals;

const date::time_zone* berlin() { return find_zone("Europe/Berlin"); }
const date::time_zone* new_york() { return find_zone("America/New_York"); }
const date::time_zone* lord_howe() { return find_zone("Australia/Lord_Howe"); }

// A local wall-clock time, built without the parser under test.
date::local_seconds local(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return date::local_days{date::year{y} / date::month{m} / date::day{d}} + std::chrono::hours{hh} +
         std::chrono::minutes{mm} + std::chrono::seconds{ss};
}

std::int64_t local_epoch(const parsed_time& t) { return t.local.time_since_epoch().count(); }

TEST(FindZone, KnownZones) {
  ASSERT_NE(berlin(), nullptr);
  EXPECT_EQ(berlin()->name(), "Europe/Berlin");
  ASSERT_NE(find_zone("UTC"), nullptr);
  EXPECT_EQ(find_zone("UTC")->name(), "UTC");
  EXPECT_NE(new_york(), nullptr);
  EXPECT_NE(lord_howe(), nullptr);
}

TEST(FindZone, UnknownZonesAreNull) {
  EXPECT_EQ(find_zone("Mars/Olympus_Mons"), nullptr);
  EXPECT_EQ(find_zone(""), nullptr);
  EXPECT_EQ(find_zone("europe/berlin"), nullptr);  // IANA names are case-sensitive
  EXPECT_EQ(find_zone("../../etc/passwd"), nullptr);
}

TEST(ParseIso8601, DateOnlyIsLocalMidnight) {
  auto t = parse_iso8601("2022-01-01");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->has_offset);
  EXPECT_EQ(local_epoch(*t), 1640995200);  // 2022-01-01 00:00:00 as a local reading
}

TEST(ParseIso8601, LocalDateTimeForms) {
  for (const char* text : {"2022-01-01T00:00", "2022-01-01T00:00:00", "2022-01-01 00:00:00", "2022-01-01t00:00"}) {
    auto t = parse_iso8601(text);
    ASSERT_TRUE(t) << text;
    EXPECT_FALSE(t->has_offset) << text;
    EXPECT_EQ(local_epoch(*t), 1640995200) << text;
  }
  auto t = parse_iso8601("2022-01-01 12:34:56");
  ASSERT_TRUE(t);
  EXPECT_EQ(local_epoch(*t), 1641040496);  // + 12*3600 + 34*60 + 56
}

TEST(ParseIso8601, FractionalSecondsAreTruncated) {
  auto t = parse_iso8601("2022-01-01T12:34:56.999");
  ASSERT_TRUE(t);
  EXPECT_EQ(local_epoch(*t), 1641040496);
  t = parse_iso8601("2022-01-01T12:34:56,5Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(to_epoch(t->utc), 1641040496);
}

TEST(ParseIso8601, Offsets) {
  struct example {
    const char* text;
    std::int64_t epoch;
  };
  for (auto [text, epoch] : {
           example{"2022-01-01T12:34:56Z", 1641040496},
           example{"2022-01-01T12:34:56z", 1641040496},
           example{"2022-01-01T12:34:56+00:00", 1641040496},
           example{"2022-01-01T12:34:56-00:00", 1641040496},
           example{"2022-01-01T12:34:56+01:00", 1641036896},  // 11:34:56Z
           example{"2022-01-01T12:34:56+0100", 1641036896},
           example{"2022-01-01T12:34:56+01", 1641036896},
           example{"2022-01-01T12:34:56-05:30", 1641060296},  // 18:04:56Z
           example{"2022-01-01T12:34+05:45", 1641019740},     // 06:49:00Z
           example{"2022-01-01T00:00:00.5-01:00", 1640998800},
       }) {
    auto t = parse_iso8601(text);
    ASSERT_TRUE(t) << text;
    EXPECT_TRUE(t->has_offset) << text;
    EXPECT_EQ(to_epoch(t->utc), epoch) << text;
  }
}

TEST(ParseIso8601, EpochSeconds) {
  struct example {
    const char* text;
    std::int64_t epoch;
  };
  for (auto [text, epoch] : {
           example{"1700000000", 1700000000},
           example{"0", 0},
           example{"2022", 2022},  // a bare integer is always epoch seconds, never a year
           example{"-86400", -86400},
           example{"1700000000.9", 1700000000},
           example{"-1.5", -2},  // truncated toward the past, like the ISO form
           example{"-1.0", -1},
           example{"253402300799", 253402300799},    // 9999-12-31T23:59:59Z
           example{"-62167219200", -62167219200},    // 0000-01-01T00:00:00Z
       }) {
    auto t = parse_iso8601(text);
    ASSERT_TRUE(t) << text;
    EXPECT_TRUE(t->has_offset) << text;
    EXPECT_EQ(to_epoch(t->utc), epoch) << text;
  }
}

TEST(ParseIso8601, LeapDayOnlyInLeapYears) {
  EXPECT_TRUE(parse_iso8601("2024-02-29"));
  EXPECT_TRUE(parse_iso8601("2000-02-29"));
  EXPECT_FALSE(parse_iso8601("2023-02-29"));
  EXPECT_FALSE(parse_iso8601("1900-02-29"));
}

TEST(ParseIso8601, RejectsInvalidText) {
  for (const char* text : {
           "", "abc", "2022-01", "22-01-01", "2022-1-1", "2022-01-1",
           "2022-13-01", "2022-00-10", "2022-01-00", "2022-01-32", "2022-04-31", "2024-02-30",
           "2022-01-01T", "2022-01-01T12", "2022-01-01T12:", "2022-01-01T1:00", "2022-01-01T12:0",
           "2022-01-01T24:00", "2022-01-01T24:00:00", "2022-01-01T23:60", "2022-01-01T23:59:60",
           "2022-01-01T12:00:00.", "2022-01-01T12:00:00.Z", "2022-01-01X12:00", "2022-01-01  12:00",
           "2022-01-01T12:00Zjunk", "2022-01-01T12:00:00 ", " 2022-01-01", "2022-01-01Z",
           "2022-01-01T12:00:00+25:00", "2022-01-01T12:00:00+01:60", "2022-01-01T12:00:00+1",
           "2022-01-01T12:00:00+01:", "2022-01-01T12:00:00+01:0", "2022-01-01T12:00:00+01:00:00",
           "2022-01-01T12:00:00UTC", "1e9", "+1700000000", "1700000000.", "--1", "9999999999999",
           "253402300800", "-62167219201", "2022-01-01T12:00:00-",
       }) {
    EXPECT_FALSE(parse_iso8601(text)) << '"' << text << '"';
  }
}

TEST(ToInstant, UniqueLocalTime) {
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 7, 1, 12))), 1814436000);  // 2027-07-01T10:00:00Z
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 1, 1))), 1798758000);      // 2026-12-31T23:00:00Z
  EXPECT_EQ(to_epoch(to_instant(new_york(), local(2027, 1, 1))), 1798779600);    // 2027-01-01T05:00:00Z
}

TEST(ToInstant, GapMapsToTheFirstInstantAfterIt) {
  // Berlin 2027-03-28: 02:00 CET jumps to 03:00 CEST at 01:00Z.
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 3, 28, 2, 0))), 1806195600);   // 2027-03-28T01:00:00Z
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 3, 28, 2, 30))), 1806195600);
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 3, 28, 2, 59, 59))), 1806195600);
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 3, 28, 1, 59, 59))), 1806195599);
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 3, 28, 3, 0))), 1806195600);
  // New York 2027-03-14: 02:00 EST jumps to 03:00 EDT at 07:00Z.
  EXPECT_EQ(to_epoch(to_instant(new_york(), local(2027, 3, 14, 2, 30))), 1805007600);  // 2027-03-14T07:00:00Z
  // Lord Howe 2027-10-03: 02:00 (+10:30) jumps to 02:30 (+11) at 2027-10-02T15:30Z.
  EXPECT_EQ(to_epoch(to_instant(lord_howe(), local(2027, 10, 3, 2, 15))), 1822491000);  // 2027-10-02T15:30:00Z
}

TEST(ToInstant, AmbiguousTimeMapsToTheFirstOccurrence) {
  // Berlin 2027-10-31: 02:30 happens in CEST (00:30Z) and again in CET (01:30Z).
  EXPECT_EQ(to_epoch(to_instant(berlin(), local(2027, 10, 31, 2, 30))), 1824942600);  // 2027-10-31T00:30:00Z
  // New York 2027-11-07: 01:30 happens in EDT (05:30Z) and again in EST (06:30Z).
  EXPECT_EQ(to_epoch(to_instant(new_york(), local(2027, 11, 7, 1, 30))), 1825565400);  // 2027-11-07T05:30:00Z
  // Lord Howe 2028-04-02: 01:45 happens at +11 (14:45Z) and again at +10:30 (15:15Z).
  EXPECT_EQ(to_epoch(to_instant(lord_howe(), local(2028, 4, 2, 1, 45))), 1838213100);  // 2028-04-01T14:45:00Z
}

TEST(ToInstant, NullZoneReadsUtc) {
  EXPECT_EQ(to_epoch(to_instant(nullptr, local(2022, 1, 1))), 1640995200);
}

TEST(Resolve, OffsetTimesIgnoreTheZone) {
  auto t = parse_iso8601("2027-10-31T02:30:00+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(to_epoch(resolve(*t, berlin())), 1824946200);  // the second occurrence, 01:30Z
}

TEST(Resolve, LocalTimesUseTheZone) {
  auto t = parse_iso8601("2027-10-31T02:30");
  ASSERT_TRUE(t);
  EXPECT_EQ(to_epoch(resolve(*t, berlin())), 1824942600);              // first occurrence, 00:30Z
  EXPECT_EQ(to_epoch(resolve(*t, find_zone("UTC"))), 1824949800);      // 2027-10-31T02:30:00Z
  EXPECT_EQ(to_epoch(resolve(*t, new_york())), 1824964200);            // 06:30Z (EDT)
}

TEST(FormatTime, IsoUtc) {
  EXPECT_EQ(format_iso_utc(from_epoch(1796342400)), "2026-12-04T00:00:00Z");
  EXPECT_EQ(format_iso_utc(from_epoch(1700000000)), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_iso_utc(from_epoch(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso_utc(from_epoch(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_iso_utc(from_epoch(-62167219200)), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_iso_utc(from_epoch(253402300799)), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_iso_utc(from_epoch(951782400)), "2000-02-29T00:00:00Z");
}

TEST(FormatTime, AppendKeepsWhatIsThere) {
  std::string out = "reset=";
  append_iso_utc(out, from_epoch(1796342400));
  EXPECT_EQ(out, "reset=2026-12-04T00:00:00Z");
}

TEST(FormatTime, SeedText) {
  EXPECT_EQ(format_seed_time(from_epoch(1796342400)), "2026-12-04 00:00:00");
  EXPECT_EQ(format_seed_time(from_epoch(1641040496)), "2022-01-01 12:34:56");
}

}  // namespace
}  // namespace quotad::domain
