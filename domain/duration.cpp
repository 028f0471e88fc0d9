#include "domain/duration.hpp"

namespace quotad::domain {

namespace {

char to_lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (to_lower_ascii(text[i]) != lower[i]) return false;
  return true;
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text) {
  for (duration d : all_durations)
    if (equals_ignoring_case(text, lower_name(d))) return d;
  return std::nullopt;
}

std::string_view upper_name(duration d) {
  switch (d) {
    case duration::second: return "SECOND";
    case duration::minute: return "MINUTE";
    case duration::hour: return "HOUR";
    case duration::day: return "DAY";
    case duration::week: return "WEEK";
    case duration::month: return "MONTH";
    case duration::year: return "YEAR";
  }
  return "UNKNOWN";
}

std::string_view lower_name(duration d) {
  switch (d) {
    case duration::second: return "second";
    case duration::minute: return "minute";
    case duration::hour: return "hour";
    case duration::day: return "day";
    case duration::week: return "week";
    case duration::month: return "month";
    case duration::year: return "year";
  }
  return "unknown";
}

std::int64_t nominal_seconds(duration d) {
  switch (d) {
    case duration::second: return 1;
    case duration::minute: return 60;
    case duration::hour: return 3600;
    case duration::day: return 86'400;
    case duration::week: return 604'800;
    case duration::month: return 2'592'000;  // 30 days
    case duration::year: return 31'536'000;  // 365 days
  }
  return 0;
}

}  // namespace quotad::domain
