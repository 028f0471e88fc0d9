// Request-target pieces: percent-decoding, client ids, query parameters.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace quotad::http {

/// Client ids are UTF-8, 1–256 bytes (SPEC §1).
inline constexpr std::size_t max_client_id_bytes = 256;

/// RFC 3986 percent-decoding. '+' stays '+' (also in queries, so that an
/// unencoded offset such as `+01:00` survives); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

/// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view text);

/// Why `id` (already decoded) is not a valid client id; nullopt if it is.
std::optional<std::string_view> client_id_problem(std::string_view id);

/// The raw (still encoded) value of the first `name=` parameter of a query
/// string; a parameter without '=' has an empty value.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);

} // namespace quotad::http
