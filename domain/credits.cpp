#include "domain/credits.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace quotad::domain {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Large enough that any real exponent is beyond every limit, small enough
// that the arithmetic on it cannot overflow.
constexpr std::int64_t exponent_cap = 1'000'000'000;

// Decimal digits of max_input (10^18 micro-credits has 19 digits).
constexpr std::int64_t max_input_digits = 19;

// The JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// split into its parts. `integer` and `fraction` are digit runs.
struct number_parts {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;
  std::int64_t exponent = 0;  // saturated at ±exponent_cap
};

std::optional<number_parts> split_json_number(std::string_view text) {
  number_parts parts;
  std::size_t i = 0;
  auto digit_run = [&] {
    std::size_t begin = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    return text.substr(begin, i - begin);
  };

  if (i < text.size() && text[i] == '-') {
    parts.negative = true;
    ++i;
  }
  parts.integer = digit_run();
  if (parts.integer.empty()) return std::nullopt;
  if (parts.integer.size() > 1 && parts.integer[0] == '0') return std::nullopt;  // "01"

  if (i < text.size() && text[i] == '.') {
    ++i;
    parts.fraction = digit_run();
    if (parts.fraction.empty()) return std::nullopt;  // "5."
  }

  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      exponent_negative = text[i] == '-';
      ++i;
    }
    std::string_view digits = digit_run();
    if (digits.empty()) return std::nullopt;  // "1e"
    std::int64_t exponent = 0;
    for (char c : digits) exponent = std::min(exponent * 10 + (c - '0'), exponent_cap);
    parts.exponent = exponent_negative ? -exponent : exponent;
  }

  if (i != text.size()) return std::nullopt;  // trailing garbage
  return parts;
}

parsed_credits failure(credits_error e) { return parsed_credits{0, e}; }

}  // namespace

std::string_view describe(credits_error e) {
  switch (e) {
    case credits_error::not_a_number: return "must be a number";
    case credits_error::negative: return "must not be negative";
    case credits_error::too_many_fraction_digits: return "must have at most 6 fractional digits";
    case credits_error::too_large: return "must be at most 1000000000000";
  }
  return "is not a valid amount";
}

parsed_credits parse_credits(std::string_view text) {
  auto parts = split_json_number(text);
  if (!parts) return failure(credits_error::not_a_number);

  // The value is `significant` × 10^exponent, with `significant` a digit
  // string stripped of leading and trailing zeros.
  std::string significant;
  significant.reserve(parts->integer.size() + parts->fraction.size());
  significant.append(parts->integer).append(parts->fraction);
  std::int64_t exponent = parts->exponent - static_cast<std::int64_t>(parts->fraction.size());

  auto first_nonzero = significant.find_first_not_of('0');
  if (first_nonzero == std::string::npos) return parsed_credits{0, std::nullopt};  // also "-0"
  significant.erase(0, first_nonzero);
  if (parts->negative) return failure(credits_error::negative);

  auto last_nonzero = significant.find_last_not_of('0');
  exponent += static_cast<std::int64_t>(significant.size() - 1 - last_nonzero);
  significant.erase(last_nonzero + 1);

  // micro = significant × 10^scale, which has digits + scale digits.
  // The magnitude is judged first: a huge amount is "too large" even if it
  // also carries too many fractional digits.
  std::int64_t scale = exponent + 6;
  auto digits = static_cast<std::int64_t>(significant.size());
  if (digits + scale > max_input_digits) return failure(credits_error::too_large);
  if (scale < 0) return failure(credits_error::too_many_fraction_digits);

  // At most 19 digits: fits an unsigned 64-bit integer.
  std::uint64_t micro = 0;
  for (char c : significant) micro = micro * 10 + static_cast<std::uint64_t>(c - '0');
  for (std::int64_t s = 0; s < scale; ++s) micro *= 10;
  if (micro > static_cast<std::uint64_t>(max_input)) return failure(credits_error::too_large);
  return parsed_credits{static_cast<micro_credits>(micro), std::nullopt};
}

parsed_credits credits_from_double(double d) {
  if (!std::isfinite(d)) return failure(credits_error::not_a_number);
  if (d < 0) return failure(credits_error::negative);

  // The shortest text that reads back as `d` is the decimal the sender
  // wrote, as long as that decimal had at most 15 significant digits.
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
  if (ec != std::errc{}) return failure(credits_error::not_a_number);
  std::string_view text(buffer, static_cast<std::size_t>(end - buffer));

  parsed_credits parsed = parse_credits(text);
  if (parsed.error) return parsed;

  // Count significant digits of the mantissa (before any exponent).
  std::string_view mantissa = text.substr(0, text.find_first_of("eE"));
  std::string digits;
  for (char c : mantissa)
    if (is_digit(c)) digits += c;
  auto first = digits.find_first_not_of('0');
  auto last = digits.find_last_not_of('0');
  std::size_t significant = first == std::string::npos ? 0 : last - first + 1;
  // More digits than a double holds exactly: the sender's decimal is lost.
  // Such a value within range always has a fractional part (an integer of
  // 16+ digits is beyond max_input), hence the fractional-digits error.
  if (significant > 15) return failure(credits_error::too_many_fraction_digits);
  return parsed;
}

void append_credits(std::string& out, micro_credits m) {
  // Work on the magnitude as unsigned so that INT64_MIN is representable.
  std::uint64_t magnitude = m < 0 ? 0 - static_cast<std::uint64_t>(m) : static_cast<std::uint64_t>(m);
  std::uint64_t whole = magnitude / micro_per_credit;
  std::uint64_t fraction = magnitude % micro_per_credit;

  char buffer[32];
  char* p = buffer;
  if (m < 0) *p++ = '-';
  p = std::to_chars(p, buffer + sizeof buffer, whole).ptr;
  if (fraction != 0) {
    *p++ = '.';
    // Six digits with leading zeros, then drop the trailing zeros.
    char digits[6];
    for (int i = 5; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    int length = 6;
    while (digits[length - 1] == '0') --length;
    p = std::copy(digits, digits + length, p);
  }
  out.append(buffer, p);
}

std::string format_credits(micro_credits m) {
  std::string out;
  append_credits(out, m);
  return out;
}

}  // namespace quotad::domain
