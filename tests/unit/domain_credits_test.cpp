#include "domain/credits.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace quotad::domain {
namespace {

struct accepted {
  const char* text;
  micro_credits micro;
};

TEST(ParseCredits, AcceptsJsonNumbersExactly) {
  for (auto [text, micro] : {
           accepted{"0", 0},
           accepted{"-0", 0},
           accepted{"-0.0", 0},
           accepted{"0e5", 0},
           accepted{"0.000e-99", 0},
           accepted{"5", 5'000'000},
           accepted{"0.1", 100'000},
           accepted{"487.5", 487'500'000},
           accepted{"0.000001", 1},
           accepted{"1.234567", 1'234'567},
           accepted{"1e7", 10'000'000'000'000},
           accepted{"1E7", 10'000'000'000'000},
           accepted{"1e+7", 10'000'000'000'000},
           accepted{"2.5E-3", 2'500},
       }) {
    parsed_credits parsed = parse_credits(text);
    EXPECT_FALSE(parsed.error) << text;
    EXPECT_EQ(parsed.value, micro) << text;
  }
}

TEST(ParseCredits, ExponentsShiftTheDecimalPoint) {
  for (auto [text, micro] : {
           accepted{"1e-6", 1},
           accepted{"123.4560000e3", 123'456'000'000},
           accepted{"100e-2", 1'000'000},
           accepted{"0.0000010", 1},      // trailing zeros carry no precision
           accepted{"1.0000000", 1'000'000},
           accepted{"12345678e-6", 12'345'678},
           accepted{"0.00000123e2", 123},
       }) {
    parsed_credits parsed = parse_credits(text);
    EXPECT_FALSE(parsed.error) << text;
    EXPECT_EQ(parsed.value, micro) << text;
  }
}

TEST(ParseCredits, LimitIsOneTrillionCredits) {
  for (const char* text : {"1000000000000", "1e12", "1000000000000.000000", "0.000001e18"}) {
    parsed_credits parsed = parse_credits(text);
    EXPECT_FALSE(parsed.error) << text;
    EXPECT_EQ(parsed.value, max_input) << text;
  }
  parsed_credits just_below = parse_credits("999999999999.999999");
  EXPECT_FALSE(just_below.error);
  EXPECT_EQ(just_below.value, max_input - 1);
}

TEST(ParseCredits, RejectsTooLarge) {
  for (const char* text : {"1000000000000.000001", "1e13", "1000000000001", "10000000000000000000000",
                           "99999999999999999999", "1e999999999999999999", "18446744073709551616",
                           "123456789012345678901234.1234567"}) {
    parsed_credits parsed = parse_credits(text);
    EXPECT_EQ(parsed.error, credits_error::too_large) << text;
    EXPECT_EQ(parsed.value, 0) << text;
  }
}

TEST(ParseCredits, RejectsTooManyFractionDigits) {
  for (const char* text : {"0.0000001", "1e-7", "0.1234567", "2.5e-6", "1.0000001", "1e-999999999999", "0.00000015e1"}) {
    parsed_credits parsed = parse_credits(text);
    EXPECT_EQ(parsed.error, credits_error::too_many_fraction_digits) << text;
    EXPECT_EQ(parsed.value, 0) << text;
  }
}

TEST(ParseCredits, RejectsNegative) {
  for (const char* text : {"-1", "-0.5", "-0.000001", "-1e7", "-1e-7"}) {
    parsed_credits parsed = parse_credits(text);
    EXPECT_EQ(parsed.error, credits_error::negative) << text;
    EXPECT_EQ(parsed.value, 0) << text;
  }
}

TEST(ParseCredits, RejectsWhatIsNotANumber) {
  for (const char* text : {"", "abc", "-", "--1", "+1", "1.", ".5", "01", "-01", "00", "1e", "1e+", "1e-", "e5",
                           "NaN", "nan", "Infinity", "-Infinity", "inf", " 1", "1 ", "0x10", "1,5", "1.2.3", "1e2e3",
                           "1..2", "1_000", "５", "\"1\"", "true", "null"}) {
    parsed_credits parsed = parse_credits(text);
    EXPECT_EQ(parsed.error, credits_error::not_a_number) << '"' << text << '"';
    EXPECT_EQ(parsed.value, 0) << text;
  }
}

TEST(CreditsFromDouble, ExactForShortDecimals) {
  struct example {
    double d;
    micro_credits micro;
  };
  for (auto [d, micro] : {
           example{0.0, 0},
           example{-0.0, 0},
           example{0.1, 100'000},
           example{1.0, 1'000'000},
           example{5.0, 5'000'000},
           example{2.5e-3, 2'500},
           example{0.000001, 1},
           example{487.5, 487'500'000},
           example{1e7, 10'000'000'000'000},
           example{1e12, max_input},
           example{123456789.123456, 123'456'789'123'456},  // 15 significant digits
           example{0.3, 300'000},
       }) {
    parsed_credits parsed = credits_from_double(d);
    EXPECT_FALSE(parsed.error) << d;
    EXPECT_EQ(parsed.value, micro) << d;
  }
}

TEST(CreditsFromDouble, RejectsWhatCannotBeRecovered) {
  EXPECT_EQ(credits_from_double(0.1 + 0.2).error, credits_error::too_many_fraction_digits);  // 0.30000000000000004
  EXPECT_EQ(credits_from_double(1e-7).error, credits_error::too_many_fraction_digits);
  EXPECT_EQ(credits_from_double(5e-324).error, credits_error::too_many_fraction_digits);
  // 16 significant digits, 6 of them fractional: beyond what a double keeps exactly.
  EXPECT_EQ(credits_from_double(1234567890.123456).error, credits_error::too_many_fraction_digits);
  EXPECT_EQ(credits_from_double(1e13).error, credits_error::too_large);
  EXPECT_EQ(credits_from_double(1e300).error, credits_error::too_large);
  EXPECT_EQ(credits_from_double(9007199254740993.0).error, credits_error::too_large);
  EXPECT_EQ(credits_from_double(std::numeric_limits<double>::max()).error, credits_error::too_large);
}

TEST(CreditsFromDouble, RejectsNegativeAndNonFinite) {
  EXPECT_EQ(credits_from_double(-1.0).error, credits_error::negative);
  EXPECT_EQ(credits_from_double(-1e-7).error, credits_error::negative);
  EXPECT_EQ(credits_from_double(-std::numeric_limits<double>::infinity()).error, credits_error::not_a_number);
  EXPECT_EQ(credits_from_double(std::numeric_limits<double>::infinity()).error, credits_error::not_a_number);
  EXPECT_EQ(credits_from_double(std::numeric_limits<double>::quiet_NaN()).error, credits_error::not_a_number);
  EXPECT_EQ(credits_from_double(std::numeric_limits<double>::quiet_NaN()).value, 0);
}

TEST(FormatCredits, ShortestExactDecimal) {
  EXPECT_EQ(format_credits(487'500'000), "487.5");
  EXPECT_EQ(format_credits(1'000'000), "1");
  EXPECT_EQ(format_credits(1), "0.000001");
  EXPECT_EQ(format_credits(1'000'000'000'000), "1000000");
  EXPECT_EQ(format_credits(0), "0");
  EXPECT_EQ(format_credits(100'000), "0.1");
  EXPECT_EQ(format_credits(1'234'567), "1.234567");
  EXPECT_EQ(format_credits(10'000'010), "10.00001");
  EXPECT_EQ(format_credits(max_input), "1000000000000");
  EXPECT_EQ(format_credits(max_sum), "9223372036854.775807");
}

TEST(FormatCredits, Negative) {
  EXPECT_EQ(format_credits(-1'000'000), "-1");
  EXPECT_EQ(format_credits(-1'500'000), "-1.5");
  EXPECT_EQ(format_credits(-1), "-0.000001");
  EXPECT_EQ(format_credits(std::numeric_limits<micro_credits>::min()), "-9223372036854.775808");
}

TEST(FormatCredits, AppendKeepsWhatIsThere) {
  std::string out = "remaining=";
  append_credits(out, 2'500'000);
  out += ';';
  append_credits(out, 0);
  EXPECT_EQ(out, "remaining=2.5;0");
}

TEST(FormatCredits, RoundTripsThroughParse) {
  for (micro_credits m : {micro_credits{0}, micro_credits{1}, micro_credits{999'999}, micro_credits{100'000},
                          micro_credits{487'500'000}, micro_credits{123'456'789'012}, max_input}) {
    parsed_credits parsed = parse_credits(format_credits(m));
    EXPECT_FALSE(parsed.error) << m;
    EXPECT_EQ(parsed.value, m);
  }
}

TEST(Credits, TenTimesPointOneIsExactlyOne) {
  micro_credits tenth = parse_credits("0.1").value;
  micro_credits sum = 0;
  for (int i = 0; i < 10; ++i) sum = saturating_add(sum, tenth);
  EXPECT_EQ(sum, micro_per_credit);
  EXPECT_EQ(format_credits(sum), "1");
}

TEST(Credits, SaturatingAdd) {
  EXPECT_EQ(saturating_add(2, 3), 5);
  EXPECT_EQ(saturating_add(max_sum - 1, 1), max_sum);
  EXPECT_EQ(saturating_add(max_sum - 1, 2), max_sum);
  EXPECT_EQ(saturating_add(max_sum, max_sum), max_sum);
}

TEST(Credits, FloorCredits) {
  EXPECT_EQ(floor_credits(0), 0);
  EXPECT_EQ(floor_credits(1'999'999), 1);
  EXPECT_EQ(floor_credits(2'000'000), 2);
  EXPECT_EQ(floor_credits(-1), -1);
  EXPECT_EQ(floor_credits(-1'000'000), -1);
  EXPECT_EQ(floor_credits(-1'000'001), -2);
}

TEST(Credits, DescribeNamesTheProblem) {
  EXPECT_EQ(describe(credits_error::not_a_number), "must be a number");
  EXPECT_EQ(describe(credits_error::negative), "must not be negative");
  EXPECT_EQ(describe(credits_error::too_many_fraction_digits), "must have at most 6 fractional digits");
  EXPECT_EQ(describe(credits_error::too_large), "must be at most 1000000000000");
}

}  // namespace
}  // namespace quotad::domain
