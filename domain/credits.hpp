// Exact decimal credits, stored as integer micro-credits (SPEC §3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quotad::domain {

/// One credit is 1'000'000 micro-credits; every amount is held as an integer.
using micro_credits = std::int64_t;

inline constexpr micro_credits micro_per_credit = 1'000'000;

/// The `credit_limit` of an unlimited definition.
inline constexpr micro_credits unlimited = -1;

/// The largest amount a single input may carry: 10^12 credits. Sums beyond
/// it (unlimited windows, ledger totals) saturate at `max_sum` instead.
inline constexpr micro_credits max_input = 1'000'000'000'000LL * micro_per_credit;
inline constexpr micro_credits max_sum = INT64_MAX;

/// Why a text is not a valid amount, for a 400 that names the problem.
enum class credits_error { not_a_number, negative, too_many_fraction_digits, too_large };

/// Human-readable reason, e.g. "must have at most 6 fractional digits".
std::string_view describe(credits_error e);

/// Parses a non-negative decimal in JSON number syntax (`5`, `0.1`, `1e7`,
/// `2.5E-3`) exactly. `-1` is not accepted here; callers that allow
/// "unlimited" check for it first.
struct parsed_credits {
  micro_credits value = 0;
  std::optional<credits_error> error;
};
parsed_credits parse_credits(std::string_view text);

/// Converts a double that came out of a JSON parser. Exact for every decimal
/// with at most 15 significant digits; anything that cannot be recovered
/// exactly is an error (callers point users to the string form).
parsed_credits credits_from_double(double d);

/// Shortest exact decimal: 487.5, 1, 0.000001, 1000000.
std::string format_credits(micro_credits m);
/// Appends the same text to `out` (hot path: no temporary string).
void append_credits(std::string& out, micro_credits m);

/// Whole credits, floored (for the IETF RateLimit fields).
inline std::int64_t floor_credits(micro_credits m) {
  return m >= 0 ? m / micro_per_credit : -((-m + micro_per_credit - 1) / micro_per_credit);
}

/// a + b, saturating at max_sum (both non-negative).
inline micro_credits saturating_add(micro_credits a, micro_credits b) {
  return a > max_sum - b ? max_sum : a + b;
}

} // namespace quotad::domain
