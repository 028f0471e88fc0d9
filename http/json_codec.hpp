// Request bodies in, response bodies and rate-limit headers out.
//
// Parsing validates every field and names the one at fault
// ("quotas[1].credit_limit"), so that a 400 says what to fix. Writing builds
// JSON by appending to a string: exact decimals, no document tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "domain/quota.hpp"
#include "service/quota_service.hpp"

namespace quotad::http {

using domain::micro_credits;

// --- parsing -------------------------------------------------------------

/// A field at fault: `field` names it ("body", "quotas[1].duration"),
/// `message` says what is wrong ("must be one of SECOND, …").
struct field_error {
  std::string field;
  std::string message;
  /// "quotas[1].duration: must be one of …"
  std::string detail() const { return field + ": " + message; }
};

template <class T>
struct parsed {
  T value{};
  std::optional<field_error> error;
  explicit operator bool() const { return !error.has_value(); }
};

/// Idempotency keys are opaque, at most this long.
inline constexpr std::size_t max_idempotency_key_bytes = 256;
inline constexpr std::size_t max_batch_items = 1000;
inline constexpr std::size_t max_import_records = 10000;

/// Whether epoch seconds lie within the years 0000–9999 (the ISO form's range).
bool epoch_in_range(std::int64_t seconds);

/// An amount: a JSON number or a string holding a decimal ("0.1"), exact.
/// With `allow_unlimited`, -1 (number or string) means unlimited.
parsed<micro_credits> credits_value(const boost::json::value& v, std::string_view field,
                                    bool allow_unlimited = false);
/// An amount in text form (the `X-Quota-Credits` header).
parsed<micro_credits> credits_text(std::string_view text, std::string_view field);

/// A time: an ISO-8601 string (local times read in `zone`) or epoch seconds.
parsed<domain::instant> time_value(const boost::json::value& v, std::string_view field,
                                   const date::time_zone* zone);
/// The same from text (query parameters): ISO-8601 or epoch seconds.
parsed<domain::instant> time_text(std::string_view text, std::string_view field,
                                  const date::time_zone* zone);

/// PUT …/quotas: the definitions, validated and sorted.
parsed<std::vector<domain::definition>> parse_quotas(std::string_view body,
                                                     const date::time_zone* default_zone);

/// POST …/usage: every field optional; an empty body is a debit of 1.
struct debit_body {
  micro_credits credits = domain::micro_per_credit;
  std::string idempotency_key;  // empty: none
  bool dry_run = false;
};
parsed<debit_body> parse_debit(std::string_view body);

/// One item of /v1/usage:batch: either a request to send or its own error.
struct batch_item {
  std::string client_id;  // as given (empty if it was not a string)
  bool has_client_id = false;
  std::optional<field_error> error;
  service::debit_request request;  // valid when !error
};
parsed<std::vector<batch_item>> parse_batch(std::string_view body);

/// POST …/usage:import.
struct import_body {
  std::string import_id;  // empty: applied every time
  std::vector<service::usage_record> records;
};
parsed<import_body> parse_import(std::string_view body, const date::time_zone* default_zone);

/// PUT /v1/testing/clock {"now": …}.
parsed<domain::instant> parse_clock_set(std::string_view body, const date::time_zone* default_zone);
/// POST /v1/testing/clock:advance {"seconds": N}.
parsed<std::int64_t> parse_clock_advance(std::string_view body);

// --- writing -------------------------------------------------------------

/// The body of GET /v1/cluster.
std::string cluster_body(const service::cluster_info& info);

/// A JSON string literal, quotes included; `"`, `\` and control characters escaped.
void append_json_string(std::string& out, std::string_view s);

/// The status document (SPEC §6).
void append_status_document(std::string& out, const service::client_view& view);
/// A successful debit: {"allowed":true,"credits":…,"remaining":…,"reset":…}.
void append_debit_body(std::string& out, const service::debit_result& r);
/// GET …/usage: {"total":…} plus "days" when asked for.
void append_usage_body(std::string& out, const service::usage_result& r, bool daily);

/// Problem types: https://quotad.dev/problems/<slug>, one per kind of failure.
struct problem_type {
  std::string_view slug;
  std::string_view title;
};
namespace problems {
inline constexpr problem_type invalid_request{"invalid-request", "Invalid request"};
inline constexpr problem_type unauthorized{"unauthorized", "Unauthorized"};
inline constexpr problem_type forbidden{"forbidden", "Forbidden"};
inline constexpr problem_type no_quota{"no-quota", "No quota"};
inline constexpr problem_type not_found{"not-found", "Not found"};
inline constexpr problem_type unknown_client{"unknown-client", "Unknown client"};
inline constexpr problem_type method_not_allowed{"method-not-allowed", "Method not allowed"};
inline constexpr problem_type conflict{"conflict", "Conflict"};
inline constexpr problem_type payload_too_large{"payload-too-large", "Payload too large"};
inline constexpr problem_type headers_too_large{"headers-too-large", "Request header fields too large"};
inline constexpr problem_type quota_exceeded{"quota-exceeded", "Quota exceeded"};
inline constexpr problem_type unavailable{"unavailable", "Service unavailable"};
inline constexpr problem_type internal_error{"internal-error", "Internal error"};
} // namespace problems

inline constexpr std::string_view problem_type_prefix = "https://quotad.dev/problems/";

/// An RFC 9457 body. `field` is added when not empty; `extra` holds further
/// members as raw JSON starting with a comma (`,"quota_remaining":2`).
std::string problem_json(const problem_type& type, unsigned status, std::string_view detail,
                         std::string_view field = {}, std::string_view extra = {});

/// The seed's refusal text: "You have only 2 credits remaining, but 5 are
/// required. They will renew at 2026-12-04 00:00:00".
std::string refusal_detail(const service::debit_result& r, micro_credits required);
/// The 429 problem of a refused debit, with quota_remaining, quota_renew, violated[].
std::string refusal_problem(const service::debit_result& r, micro_credits required);

/// The rate-limit header values of a debit answer. Absent for a client with
/// an empty list; `policy` and `limit` (the IETF fields) are empty when no
/// definition is limited.
struct rate_limit_fields {
  std::string remaining;  // X-RateLimit-Remaining
  std::string reset;      // X-RateLimit-Reset
  std::string policy;     // RateLimit-Policy
  std::string limit;      // RateLimit
};
std::optional<rate_limit_fields> rate_limit_headers(const service::debit_result& r);

} // namespace quotad::http
