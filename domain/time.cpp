#include "domain/time.hpp"

#include <exception>

namespace quotad::domain {

namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Epoch seconds are accepted within the years 0000–9999, the range of the
// ISO form, so that calendar arithmetic on any parsed time stays in range.
constexpr std::int64_t min_epoch = -62'167'219'200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t max_epoch = 253'402'300'799;  // 9999-12-31T23:59:59Z

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A small cursor over the text; every reader returns false on a mismatch.
struct cursor {
  std::string_view text;
  std::size_t pos = 0;

  bool at_end() const { return pos == text.size(); }
  char peek() const { return at_end() ? '\0' : text[pos]; }

  bool skip(char c) {
    if (peek() != c) return false;
    ++pos;
    return true;
  }

  // Exactly `count` digits.
  bool fixed_digits(std::size_t count, int& value) {
    if (text.size() - pos < count) return false;
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      char c = text[pos + i];
      if (!is_digit(c)) return false;
      value = value * 10 + (c - '0');
    }
    pos += count;
    return true;
  }

  // One or more digits, whose value is ignored.
  bool skip_digits() {
    std::size_t begin = pos;
    while (is_digit(peek())) ++pos;
    return pos > begin;
  }
};

// `-?[0-9]+(\.[0-9]+)?`, fractional part truncated toward the past.
std::optional<parsed_time> parse_epoch(std::string_view text) {
  cursor in{text};
  bool negative = in.skip('-');
  std::size_t digits_begin = in.pos;
  if (!in.skip_digits()) return std::nullopt;
  std::string_view digits = text.substr(digits_begin, in.pos - digits_begin);
  bool has_fraction = false;
  if (in.skip('.')) {
    std::size_t fraction_begin = in.pos;
    if (!in.skip_digits()) return std::nullopt;
    has_fraction = text.find_first_not_of('0', fraction_begin) != std::string_view::npos;
  }
  if (!in.at_end() || digits.size() > 12) return std::nullopt;

  std::int64_t value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  if (negative) value = has_fraction ? -value - 1 : -value;
  if (value < min_epoch || value > max_epoch) return std::nullopt;
  return parsed_time{true, from_epoch(value), {}};
}

void append_digits(std::string& out, int value, int width) {
  char buffer[8];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buffer, static_cast<std::size_t>(width));
}

// "YYYY-MM-DD" + separator + "HH:MM:SS".
void append_date_time(std::string& out, instant t, char separator) {
  auto day = std::chrono::floor<date::days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<seconds> tod{t - day};
  int year = static_cast<int>(ymd.year());
  if (year < 0) {
    out += '-';
    year = -year;
  }
  append_digits(out, year, 4);
  out += '-';
  append_digits(out, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
  out += '-';
  append_digits(out, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
  out += separator;
  append_digits(out, static_cast<int>(tod.hours().count()), 2);
  out += ':';
  append_digits(out, static_cast<int>(tod.minutes().count()), 2);
  out += ':';
  append_digits(out, static_cast<int>(tod.seconds().count()), 2);
}

}  // namespace

const date::time_zone* find_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::optional<parsed_time> parse_iso8601(std::string_view text) {
  if (auto epoch = parse_epoch(text)) return epoch;

  cursor in{text};
  int year = 0, month = 0, day = 0;
  if (!in.fixed_digits(4, year) || !in.skip('-') || !in.fixed_digits(2, month) || !in.skip('-') ||
      !in.fixed_digits(2, day))
    return std::nullopt;
  date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                           date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;  // month 13, 2023-02-29, …

  int hour = 0, minute = 0, second = 0;
  bool has_offset = false;
  seconds offset{0};
  if (!in.at_end()) {
    char separator = in.peek();
    if (separator != 'T' && separator != 't' && separator != ' ') return std::nullopt;
    ++in.pos;
    if (!in.fixed_digits(2, hour) || !in.skip(':') || !in.fixed_digits(2, minute)) return std::nullopt;
    if (in.skip(':')) {
      if (!in.fixed_digits(2, second)) return std::nullopt;
      if (in.skip('.') || in.skip(',')) {
        if (!in.skip_digits()) return std::nullopt;  // fractional seconds: truncated
      }
    }
    // 24:00 and leap seconds are rejected rather than reinterpreted.
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;

    if (in.skip('Z') || in.skip('z')) {
      has_offset = true;
    } else if (in.peek() == '+' || in.peek() == '-') {
      bool negative = in.peek() == '-';
      ++in.pos;
      int offset_hours = 0, offset_minutes = 0;
      if (!in.fixed_digits(2, offset_hours)) return std::nullopt;
      if (!in.at_end()) {
        in.skip(':');  // "+hh:mm" or "+hhmm"
        if (!in.fixed_digits(2, offset_minutes)) return std::nullopt;
      }
      if (offset_hours > 23 || offset_minutes > 59) return std::nullopt;
      has_offset = true;
      offset = hours{offset_hours} + minutes{offset_minutes};
      if (negative) offset = -offset;
    }
    if (!in.at_end()) return std::nullopt;
  }

  seconds time_of_day = hours{hour} + minutes{minute} + seconds{second};
  parsed_time result;
  result.has_offset = has_offset;
  if (has_offset)
    result.utc = date::sys_days{ymd} + time_of_day - offset;
  else
    result.local = date::local_days{ymd} + time_of_day;
  return result;
}

instant resolve(const parsed_time& t, const date::time_zone* zone) {
  return t.has_offset ? t.utc : to_instant(zone, t.local);
}

instant to_instant(const date::time_zone* zone, date::local_seconds local) {
  if (zone == nullptr) return instant{local.time_since_epoch()};  // read as UTC
  date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // info.first is the earlier occurrence
      return instant{local.time_since_epoch() - info.first.offset};
    case date::local_info::nonexistent:  // the gap ends where info.second begins
      return info.second.begin;
  }
  return instant{local.time_since_epoch() - info.first.offset};
}

void append_iso_utc(std::string& out, instant t) {
  append_date_time(out, t, 'T');
  out += 'Z';
}

std::string format_iso_utc(instant t) {
  std::string out;
  append_iso_utc(out, t);
  return out;
}

std::string format_seed_time(instant t) {
  std::string out;
  append_date_time(out, t, ' ');
  return out;
}

}  // namespace quotad::domain
