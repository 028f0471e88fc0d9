#include "domain/window.hpp"

#include <gtest/gtest.h>

#include <string>

namespace quotad::domain {
namespace {

// A UTC instant, built without the code under test.
instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}} + std::chrono::hours{hh} +
         std::chrono::minutes{mm} + std::chrono::seconds{ss};
}

anchor anchored(const char* zone, instant at) {
  const date::time_zone* z = find_zone(zone);
  EXPECT_NE(z, nullptr) << zone;
  return anchor::make(at, z);
}

// "start end" in ISO UTC: the expected texts below were computed with
// `TZ=<zone> date -d '<local time>' -u`.
std::string span(window w) { return format_iso_utc(w.start) + " " + format_iso_utc(w.end); }

std::int64_t length_hours(window w) { return (w.end - w.start).count() / 3600; }

// ---- anchors ---------------------------------------------------------------

TEST(Anchor, KeepsTheLocalTime) {
  anchor a = anchored("America/New_York", utc(2027, 2, 1, 4, 30));  // 2027-01-31 23:30 EST
  EXPECT_EQ(a.local, date::local_days{date::year{2027} / 1 / 31} + std::chrono::hours{23} + std::chrono::minutes{30});
  EXPECT_EQ(a.at, utc(2027, 2, 1, 4, 30));
  EXPECT_EQ(a.zone->name(), "America/New_York");
}

TEST(Boundary, KZeroIsTheAnchorItself) {
  // 02:30 CET on 2027-10-31 is the second occurrence of 02:30 that night.
  anchor a = anchored("Europe/Berlin", utc(2027, 10, 31, 1, 30));
  EXPECT_EQ(format_iso_utc(boundary(duration::day, a, 0)), "2027-10-31T01:30:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::day, a, -1)), "2027-10-30T00:30:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::day, a, 1)), "2027-11-01T01:30:00Z");
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 10, 31, 1, 0))), "2027-10-30T00:30:00Z 2027-10-31T01:30:00Z");
}

// ---- SECOND / MINUTE / HOUR ------------------------------------------------

TEST(FixedWindows, OddAnchor) {
  anchor a = anchored("Europe/Berlin", from_epoch(1700000007));  // 2023-11-14T22:13:27Z
  instant t = from_epoch(1700010000);                            // 9993 s later
  EXPECT_EQ(window_at(duration::hour, a, t), (window{from_epoch(1700007207), from_epoch(1700010807)}));
  EXPECT_EQ(window_at(duration::minute, a, t), (window{from_epoch(1700009967), from_epoch(1700010027)}));
  EXPECT_EQ(window_at(duration::second, a, t), (window{from_epoch(1700010000), from_epoch(1700010001)}));
}

TEST(FixedWindows, BeforeTheAnchor) {
  anchor a = anchored("UTC", from_epoch(1700000007));
  instant t = from_epoch(1700000000);  // 7 s before the anchor
  EXPECT_EQ(window_at(duration::hour, a, t), (window{from_epoch(1699996407), from_epoch(1700000007)}));
  EXPECT_EQ(window_at(duration::minute, a, t), (window{from_epoch(1699999947), from_epoch(1700000007)}));
  EXPECT_EQ(window_at(duration::second, a, t), (window{from_epoch(1700000000), from_epoch(1700000001)}));
  // Exactly one hour before: that instant starts a window.
  EXPECT_EQ(window_at(duration::hour, a, from_epoch(1699996407)).start, from_epoch(1699996407));
  EXPECT_EQ(window_at(duration::hour, a, from_epoch(1699996406)).start, from_epoch(1699992807));
}

TEST(FixedWindows, StartInclusiveEndExclusive) {
  anchor a = anchored("UTC", from_epoch(1700000007));
  EXPECT_EQ(window_at(duration::hour, a, from_epoch(1700000007)).start, from_epoch(1700000007));
  EXPECT_EQ(window_at(duration::hour, a, from_epoch(1700003606)).end, from_epoch(1700003607));
  EXPECT_EQ(window_at(duration::hour, a, from_epoch(1700003607)).start, from_epoch(1700003607));
  EXPECT_EQ(window_at(duration::minute, a, from_epoch(1700000066)).start, from_epoch(1700000007));
  EXPECT_EQ(window_at(duration::minute, a, from_epoch(1700000067)).start, from_epoch(1700000067));
}

TEST(FixedWindows, HourIgnoresTheZone) {
  // Lord Howe is at +10:30; an HOUR window still runs from the anchor instant.
  anchor a = anchored("Australia/Lord_Howe", utc(2027, 10, 2, 15, 10));
  EXPECT_EQ(span(window_at(duration::hour, a, utc(2027, 10, 2, 16, 30))), "2027-10-02T16:10:00Z 2027-10-02T17:10:00Z");
}

TEST(FixedWindows, AnchorCenturiesAway) {
  anchor a = anchored("UTC", utc(1900, 1, 1, 0, 0, 7));
  EXPECT_EQ(span(window_at(duration::second, a, utc(2100, 6, 1, 12))), "2100-06-01T12:00:00Z 2100-06-01T12:00:01Z");
  EXPECT_EQ(span(window_at(duration::hour, a, utc(2100, 6, 1, 12))), "2100-06-01T11:00:07Z 2100-06-01T12:00:07Z");
}

// ---- DAY ---------------------------------------------------------------------

TEST(DayWindows, Berlin23And25Hours) {
  anchor a = anchored("Europe/Berlin", utc(2026, 12, 31, 23));  // 2027-01-01 00:00 CET
  window spring = window_at(duration::day, a, utc(2027, 3, 28, 12));
  EXPECT_EQ(span(spring), "2027-03-27T23:00:00Z 2027-03-28T22:00:00Z");
  EXPECT_EQ(length_hours(spring), 23);
  window autumn = window_at(duration::day, a, utc(2027, 10, 31, 12));
  EXPECT_EQ(span(autumn), "2027-10-30T22:00:00Z 2027-10-31T23:00:00Z");
  EXPECT_EQ(length_hours(autumn), 25);
  window ordinary = window_at(duration::day, a, utc(2027, 6, 15, 12));
  EXPECT_EQ(span(ordinary), "2027-06-14T22:00:00Z 2027-06-15T22:00:00Z");
}

TEST(DayWindows, NewYork23And25Hours) {
  anchor a = anchored("America/New_York", utc(2027, 1, 1, 5));  // 2027-01-01 00:00 EST
  window spring = window_at(duration::day, a, utc(2027, 3, 14, 12));
  EXPECT_EQ(span(spring), "2027-03-14T05:00:00Z 2027-03-15T04:00:00Z");
  EXPECT_EQ(length_hours(spring), 23);
  window autumn = window_at(duration::day, a, utc(2027, 11, 7, 12));
  EXPECT_EQ(span(autumn), "2027-11-07T04:00:00Z 2027-11-08T05:00:00Z");
  EXPECT_EQ(length_hours(autumn), 25);
}

TEST(DayWindows, BoundaryInTheSpringForwardGap) {
  // Anchor 02:30 local; on 2027-03-28 02:30 does not exist in Berlin, so the
  // boundary falls at 03:00 CEST (01:00Z), the first instant after the gap.
  anchor a = anchored("Europe/Berlin", utc(2027, 3, 1, 1, 30));  // 2027-03-01 02:30 CET
  EXPECT_EQ(format_iso_utc(boundary(duration::day, a, 27)), "2027-03-28T01:00:00Z");
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 3, 28, 0, 59, 59))),
            "2027-03-27T01:30:00Z 2027-03-28T01:00:00Z");
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 3, 28, 1))), "2027-03-28T01:00:00Z 2027-03-29T00:30:00Z");
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 3, 29, 0, 30))), "2027-03-29T00:30:00Z 2027-03-30T00:30:00Z");
}

TEST(DayWindows, AmbiguousBoundaryIsTheFirstOccurrence) {
  // start_date "2027-10-31T02:30" read in Berlin: the CEST occurrence, 00:30Z.
  anchor a = anchored("Europe/Berlin", utc(2027, 10, 31, 0, 30));
  EXPECT_EQ(format_iso_utc(boundary(duration::day, a, -1)), "2027-10-30T00:30:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::day, a, 1)), "2027-11-01T01:30:00Z");
  // 01:15Z is 02:15 CET, in the repeated hour: still the window from 00:30Z.
  window w = window_at(duration::day, a, utc(2027, 10, 31, 1, 15));
  EXPECT_EQ(span(w), "2027-10-31T00:30:00Z 2027-11-01T01:30:00Z");
  EXPECT_EQ(length_hours(w), 25);

  // The same boundary reached from an anchor a month earlier.
  anchor earlier = anchored("Europe/Berlin", utc(2027, 10, 1, 0, 30));  // 2027-10-01 02:30 CEST
  EXPECT_EQ(span(window_at(duration::day, earlier, utc(2027, 10, 31, 0, 29, 59))),
            "2027-10-30T00:30:00Z 2027-10-31T00:30:00Z");
  EXPECT_EQ(span(window_at(duration::day, earlier, utc(2027, 10, 31, 0, 30))),
            "2027-10-31T00:30:00Z 2027-11-01T01:30:00Z");
}

TEST(DayWindows, NewYorkGapAndOverlap) {
  anchor a = anchored("America/New_York", utc(2027, 3, 1, 7, 30));  // 2027-03-01 02:30 EST
  // 2027-03-14 02:30 does not exist: the boundary is 03:00 EDT (07:00Z).
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 3, 14, 7))), "2027-03-14T07:00:00Z 2027-03-15T06:30:00Z");
  anchor b = anchored("America/New_York", utc(2027, 11, 1, 5, 30));  // 2027-11-01 01:30 EDT
  // 2027-11-07 01:30 happens twice: the boundary is the EDT one (05:30Z).
  EXPECT_EQ(span(window_at(duration::day, b, utc(2027, 11, 7, 6))), "2027-11-07T05:30:00Z 2027-11-08T06:30:00Z");
}

TEST(DayWindows, LordHoweHalfHourShift) {
  // Lord Howe moves from +10:30 to +11 at 02:00 local on 2027-10-03.
  anchor a = anchored("Australia/Lord_Howe", utc(2027, 8, 31, 15, 45));  // 2027-09-01 02:15 +10:30
  window w = window_at(duration::day, a, utc(2027, 10, 2, 16));
  EXPECT_EQ(span(w), "2027-10-02T15:30:00Z 2027-10-03T15:15:00Z");  // 02:15 is in the gap
  EXPECT_EQ((w.end - w.start).count(), 23 * 3600 + 45 * 60);
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 10, 2, 15, 29, 59))),
            "2027-10-01T15:45:00Z 2027-10-02T15:30:00Z");

  // And back to +10:30 at 02:00 (+11) on 2028-04-02: 01:45 happens twice.
  anchor b = anchored("Australia/Lord_Howe", utc(2028, 2, 29, 14, 45));  // 2028-03-01 01:45 +11
  window back = window_at(duration::day, b, utc(2028, 4, 1, 15, 10));    // 01:40, second time
  EXPECT_EQ(span(back), "2028-04-01T14:45:00Z 2028-04-02T15:15:00Z");
  EXPECT_EQ((back.end - back.start).count(), 24 * 3600 + 30 * 60);
}

TEST(DayWindows, FutureAnchorCountsBackwards) {
  anchor a = anchored("Europe/Berlin", utc(2027, 4, 10, 4));  // 2027-04-10 06:00 CEST
  window w = window_at(duration::day, a, utc(2027, 3, 28, 2));
  EXPECT_EQ(span(w), "2027-03-27T05:00:00Z 2027-03-28T04:00:00Z");
  EXPECT_EQ(length_hours(w), 23);
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 4, 10, 3, 59, 59))), "2027-04-09T04:00:00Z 2027-04-10T04:00:00Z");
}

TEST(DayWindows, AnchorFiftySevenYearsAgo) {
  anchor a = anchored("America/New_York", utc(1970, 1, 1, 5));  // 1970-01-01 00:00 EST
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 3, 14, 12))), "2027-03-14T05:00:00Z 2027-03-15T04:00:00Z");
  EXPECT_EQ(span(window_at(duration::day, a, utc(2027, 3, 14, 4, 59, 59))), "2027-03-13T05:00:00Z 2027-03-14T05:00:00Z");
}

TEST(DayWindows, StartInclusiveEndExclusive) {
  anchor a = anchored("Europe/Berlin", utc(2026, 12, 31, 23));
  EXPECT_EQ(format_iso_utc(window_at(duration::day, a, utc(2027, 3, 27, 23)).start), "2027-03-27T23:00:00Z");
  EXPECT_EQ(format_iso_utc(window_at(duration::day, a, utc(2027, 3, 27, 22, 59, 59)).start), "2027-03-26T23:00:00Z");
  EXPECT_EQ(format_iso_utc(window_at(duration::day, a, utc(2027, 3, 28, 22)).start), "2027-03-28T22:00:00Z");
}

// ---- WEEK --------------------------------------------------------------------

TEST(WeekWindows, Berlin) {
  anchor a = anchored("Europe/Berlin", utc(2027, 3, 22, 8));  // Monday 2027-03-22 09:00 CET
  window across = window_at(duration::week, a, utc(2027, 3, 25));
  EXPECT_EQ(span(across), "2027-03-22T08:00:00Z 2027-03-29T07:00:00Z");
  EXPECT_EQ(length_hours(across), 7 * 24 - 1);
  EXPECT_EQ(span(window_at(duration::week, a, utc(2027, 3, 30, 12))), "2027-03-29T07:00:00Z 2027-04-05T07:00:00Z");
  EXPECT_EQ(span(window_at(duration::week, a, utc(2027, 3, 29, 7))), "2027-03-29T07:00:00Z 2027-04-05T07:00:00Z");
  EXPECT_EQ(span(window_at(duration::week, a, utc(2027, 3, 22, 7, 59, 59))), "2027-03-15T08:00:00Z 2027-03-22T08:00:00Z");
}

TEST(WeekWindows, NewYork) {
  anchor a = anchored("America/New_York", utc(2027, 11, 1, 4));  // Monday 2027-11-01 00:00 EDT
  window w = window_at(duration::week, a, utc(2027, 11, 7, 12));
  EXPECT_EQ(span(w), "2027-11-01T04:00:00Z 2027-11-08T05:00:00Z");
  EXPECT_EQ(length_hours(w), 7 * 24 + 1);
}

// ---- MONTH -------------------------------------------------------------------

TEST(MonthWindows, FromJan31ClampsToTheMonthsLastDay) {
  anchor a = anchored("UTC", utc(2027, 1, 31));
  EXPECT_EQ(format_iso_utc(boundary(duration::month, a, 1)), "2027-02-28T00:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::month, a, 2)), "2027-03-31T00:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::month, a, 3)), "2027-04-30T00:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::month, a, 13)), "2028-02-29T00:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::month, a, -1)), "2026-12-31T00:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::month, a, -2)), "2026-11-30T00:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::month, a, -11)), "2026-02-28T00:00:00Z");

  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 2, 28, 12))), "2027-02-28T00:00:00Z 2027-03-31T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 3, 15))), "2027-02-28T00:00:00Z 2027-03-31T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 3, 30, 23, 59, 59))), "2027-02-28T00:00:00Z 2027-03-31T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 3, 31))), "2027-03-31T00:00:00Z 2027-04-30T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 4, 30))), "2027-04-30T00:00:00Z 2027-05-31T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2028, 2, 28, 23, 59, 59))), "2028-01-31T00:00:00Z 2028-02-29T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2028, 3, 1))), "2028-02-29T00:00:00Z 2028-03-31T00:00:00Z");
}

TEST(MonthWindows, BerlinKeepsLocalTimeAcrossDst) {
  anchor a = anchored("Europe/Berlin", utc(2027, 1, 31, 9));  // 2027-01-31 10:00 CET
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 3, 1))), "2027-02-28T09:00:00Z 2027-03-31T08:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 4, 1, 12))), "2027-03-31T08:00:00Z 2027-04-30T08:00:00Z");
}

TEST(MonthWindows, NewYorkUsesTheLocalDayOfMonth) {
  // 2027-01-31 23:30 EST is already February 1st in UTC; the local 31st counts.
  anchor a = anchored("America/New_York", utc(2027, 2, 1, 4, 30));
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 3, 1))), "2027-02-01T04:30:00Z 2027-03-01T04:30:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 3, 1, 4, 30))), "2027-03-01T04:30:00Z 2027-04-01T03:30:00Z");
}

TEST(MonthWindows, CurrentDayBeforeTheAnchorDay) {
  // Anchor on the 15th, today the 10th: the window started last month.
  anchor a = anchored("UTC", utc(2022, 1, 15));
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 6, 10, 12))), "2027-05-15T00:00:00Z 2027-06-15T00:00:00Z");
  anchor b = anchored("Europe/Berlin", utc(2022, 1, 14, 23));  // 2022-01-15 00:00 CET
  EXPECT_EQ(span(window_at(duration::month, b, utc(2027, 6, 10, 12))), "2027-05-14T22:00:00Z 2027-06-14T22:00:00Z");
}

TEST(MonthWindows, FutureAnchorCountsBackwards) {
  anchor a = anchored("UTC", utc(2030, 1, 31));
  EXPECT_EQ(span(window_at(duration::month, a, utc(2029, 12, 15))), "2029-11-30T00:00:00Z 2029-12-31T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2029, 12, 31))), "2029-12-31T00:00:00Z 2030-01-31T00:00:00Z");
  EXPECT_EQ(span(window_at(duration::month, a, utc(2030, 1, 30, 23, 59, 59))), "2029-12-31T00:00:00Z 2030-01-31T00:00:00Z");
}

TEST(MonthWindows, AnchorSeventySevenYearsAgo) {
  anchor a = anchored("America/New_York", utc(1950, 1, 31, 5));  // 1950-01-31 00:00 EST
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 2, 15, 12))), "2027-01-31T05:00:00Z 2027-02-28T05:00:00Z");
}

TEST(MonthWindows, AnchorInYearOne) {
  anchor a = anchored("UTC", utc(1, 1, 31));
  EXPECT_EQ(span(window_at(duration::month, a, utc(2027, 2, 15, 12))), "2027-01-31T00:00:00Z 2027-02-28T00:00:00Z");
}

// ---- YEAR --------------------------------------------------------------------

TEST(YearWindows, FromFeb29) {
  anchor a = anchored("UTC", utc(2024, 2, 29, 12));
  EXPECT_EQ(format_iso_utc(boundary(duration::year, a, 1)), "2025-02-28T12:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::year, a, 4)), "2028-02-29T12:00:00Z");
  EXPECT_EQ(format_iso_utc(boundary(duration::year, a, -1)), "2023-02-28T12:00:00Z");
  EXPECT_EQ(span(window_at(duration::year, a, utc(2025, 3, 1))), "2025-02-28T12:00:00Z 2026-02-28T12:00:00Z");
  EXPECT_EQ(span(window_at(duration::year, a, utc(2028, 2, 29, 11, 59, 59))), "2027-02-28T12:00:00Z 2028-02-29T12:00:00Z");
  EXPECT_EQ(span(window_at(duration::year, a, utc(2028, 2, 29, 12))), "2028-02-29T12:00:00Z 2029-02-28T12:00:00Z");
}

TEST(YearWindows, NewYorkFromFeb29) {
  anchor a = anchored("America/New_York", utc(2024, 2, 29, 5));  // 2024-02-29 00:00 EST
  EXPECT_EQ(span(window_at(duration::year, a, utc(2026, 1, 1))), "2025-02-28T05:00:00Z 2026-02-28T05:00:00Z");
}

TEST(YearWindows, BerlinSummerAnchor) {
  anchor a = anchored("Europe/Berlin", utc(2020, 7, 14, 22));  // 2020-07-15 00:00 CEST
  EXPECT_EQ(span(window_at(duration::year, a, utc(2027, 1, 1))), "2026-07-14T22:00:00Z 2027-07-14T22:00:00Z");
}

TEST(YearWindows, AnchorOnFeb29In1904) {
  anchor a = anchored("Europe/Berlin", utc(1904, 2, 28, 23));  // 1904-02-29 00:00 CET
  EXPECT_EQ(span(window_at(duration::year, a, utc(2027, 6, 1))), "2027-02-27T23:00:00Z 2028-02-28T23:00:00Z");
}

TEST(YearWindows, FutureAnchorCountsBackwards) {
  anchor a = anchored("UTC", utc(2032, 2, 29));
  EXPECT_EQ(span(window_at(duration::year, a, utc(2027, 1, 1))), "2026-02-28T00:00:00Z 2027-02-28T00:00:00Z");
}

// ---- every duration: the window always contains t ---------------------------

TEST(AllWindows, ContainTheInstantAndAreAlignedToBoundaries) {
  anchor a = anchored("Europe/Berlin", utc(2027, 1, 31, 1, 30));  // 2027-01-31 02:30 CET
  for (duration d : all_durations) {
    // Every 7 hours 13 minutes through 2027, including both DST changes.
    for (instant t = utc(2027, 1, 1); t < utc(2028, 1, 1); t += std::chrono::minutes{433}) {
      window w = window_at(d, a, t);
      ASSERT_TRUE(w.contains(t)) << upper_name(d) << " " << format_iso_utc(t);
      EXPECT_EQ(window_at(d, a, w.start), w) << upper_name(d) << " " << format_iso_utc(t);
      EXPECT_EQ(window_at(d, a, w.end).start, w.end) << upper_name(d) << " " << format_iso_utc(t);
    }
  }
}

}  // namespace
}  // namespace quotad::domain
