// The seven quota durations (SPEC §1).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace quotad::domain {

/// Ordered from shortest to longest: comparisons mean "shorter than".
enum class duration : std::uint8_t { second, minute, hour, day, week, month, year };

inline constexpr std::array<duration, 7> all_durations{
  duration::second, duration::minute, duration::hour, duration::day,
  duration::week,   duration::month,  duration::year};

/// Case-insensitive: "day", "DAY", "Day".
std::optional<duration> parse_duration(std::string_view text);

/// "SECOND" … "YEAR".
std::string_view upper_name(duration d);

/// "second" … "year": the policy names of the IETF RateLimit fields.
std::string_view lower_name(duration d);

/// Nominal length in seconds for `RateLimit-Policy: w=`; calendar
/// durations use 86400, 604800, 2592000 (30 days) and 31536000 (365 days).
std::int64_t nominal_seconds(duration d);

} // namespace quotad::domain
