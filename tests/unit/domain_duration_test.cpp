#include "domain/duration.hpp"

#include <gtest/gtest.h>

namespace quotad::domain {
namespace {

TEST(Duration, ParseIsCaseInsensitive) {
  EXPECT_EQ(parse_duration("day"), duration::day);
  EXPECT_EQ(parse_duration("DAY"), duration::day);
  EXPECT_EQ(parse_duration("Day"), duration::day);
  EXPECT_EQ(parse_duration("SECOND"), duration::second);
  EXPECT_EQ(parse_duration("minute"), duration::minute);
  EXPECT_EQ(parse_duration("HoUr"), duration::hour);
  EXPECT_EQ(parse_duration("week"), duration::week);
  EXPECT_EQ(parse_duration("MONTH"), duration::month);
  EXPECT_EQ(parse_duration("year"), duration::year);
}

TEST(Duration, ParseRejectsOtherText) {
  for (const char* text : {"", "days", "DA", " day", "day ", "fortnight", "d", "DAILY", "1"})
    EXPECT_FALSE(parse_duration(text)) << '"' << text << '"';
}

TEST(Duration, Names) {
  EXPECT_EQ(upper_name(duration::second), "SECOND");
  EXPECT_EQ(upper_name(duration::year), "YEAR");
  EXPECT_EQ(lower_name(duration::week), "week");
  EXPECT_EQ(lower_name(duration::month), "month");
  for (duration d : all_durations) EXPECT_EQ(parse_duration(upper_name(d)), d);
}

TEST(Duration, NominalSeconds) {
  EXPECT_EQ(nominal_seconds(duration::second), 1);
  EXPECT_EQ(nominal_seconds(duration::minute), 60);
  EXPECT_EQ(nominal_seconds(duration::hour), 3600);
  EXPECT_EQ(nominal_seconds(duration::day), 86400);
  EXPECT_EQ(nominal_seconds(duration::week), 604800);
  EXPECT_EQ(nominal_seconds(duration::month), 2592000);
  EXPECT_EQ(nominal_seconds(duration::year), 31536000);
}

TEST(Duration, OrderedShortestFirst) {
  for (std::size_t i = 1; i < all_durations.size(); ++i) EXPECT_LT(all_durations[i - 1], all_durations[i]);
}

}  // namespace
}  // namespace quotad::domain
