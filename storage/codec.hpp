// Key and value encodings of the column families (see docs/storage.md).
// Internal to storage/; exposed for its tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/quota.hpp"
#include "storage/database.hpp"

namespace quotad::storage::codec {

/// Leading byte of every versioned value (all but ledger values).
inline constexpr std::uint8_t format_version = 1;

/// Client ids are encoded with a 2-byte length.
inline constexpr std::size_t max_client_id_bytes = 0xFFFF;

// --- keys ----------------------------------------------------------------

/// 2-byte big-endian length + id: no client's prefix is a prefix of
/// another's ("a" and "ab" differ in the length bytes). Throws
/// std::invalid_argument for ids longer than max_client_id_bytes.
std::string client_prefix(std::string_view client_id);

/// The smallest key greater than every key that starts with `prefix`
/// (an exclusive upper bound for the prefix's range).
std::string prefix_end(std::string_view prefix);

/// Epoch seconds as 8 big-endian bytes with the sign bit flipped, so that
/// byte order equals numeric order, negative times included.
void append_time(std::string& out, std::int64_t t);
std::int64_t read_time(std::string_view eight_bytes);

std::string ledger_key(std::string_view client_id, std::int64_t at);
/// The time of a ledger key whose client prefix has `prefix_size` bytes.
std::optional<std::int64_t> ledger_key_time(std::string_view key, std::size_t prefix_size);

/// Client prefix + the key's bytes, unchanged.
std::string suffixed_key(std::string_view client_id, std::string_view suffix);

// --- values --------------------------------------------------------------

/// Ledger values: a plain 8-byte little-endian int64 (the merge operands).
std::string encode_credits(domain::micro_credits m);
std::optional<domain::micro_credits> decode_credits(std::string_view v);

/// Signed addition that saturates at the int64 limits.
std::int64_t saturating_add(std::int64_t a, std::int64_t b);

std::string encode_definitions(const std::vector<domain::definition>& defs);
/// nullopt on a malformed value or a zone name the tz database lacks.
std::optional<std::vector<domain::definition>> decode_definitions(std::string_view v);

struct stored_windows {
  std::int64_t rolled_until = 0;
  std::vector<domain::window> windows;
  std::vector<domain::micro_credits> used;
};
std::string encode_windows(const domain::quota_set& quotas, std::int64_t rolled_until);
std::optional<stored_windows> decode_windows(std::string_view v);

std::string encode_answer(const stored_answer& a);
std::optional<stored_answer> decode_answer(std::string_view v);

std::string encode_import(std::int64_t applied_at);
std::optional<std::int64_t> decode_import(std::string_view v);

} // namespace quotad::storage::codec
