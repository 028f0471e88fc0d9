#include "storage/codec.hpp"

#include <limits>
#include <stdexcept>

namespace quotad::storage::codec {

namespace {

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_u16_le(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}

void put_i64_le(std::string& out, std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

/// Reads a value front to back; any read past the end makes it fail.
class reader {
 public:
  explicit reader(std::string_view v) : v_(v) {}

  std::optional<std::uint8_t> u8() {
    if (v_.size() < 1) return std::nullopt;
    auto b = static_cast<std::uint8_t>(v_[0]);
    v_.remove_prefix(1);
    return b;
  }
  std::optional<std::uint16_t> u16() {
    if (v_.size() < 2) return std::nullopt;
    auto lo = static_cast<std::uint8_t>(v_[0]);
    auto hi = static_cast<std::uint8_t>(v_[1]);
    v_.remove_prefix(2);
    return static_cast<std::uint16_t>(lo | (hi << 8));
  }
  std::optional<std::int64_t> i64() {
    if (v_.size() < 8) return std::nullopt;
    std::uint64_t u = 0;
    for (int i = 7; i >= 0; --i) u = (u << 8) | static_cast<std::uint8_t>(v_[i]);
    v_.remove_prefix(8);
    return static_cast<std::int64_t>(u);
  }
  std::optional<std::string_view> bytes(std::size_t n) {
    if (v_.size() < n) return std::nullopt;
    auto b = v_.substr(0, n);
    v_.remove_prefix(n);
    return b;
  }
  bool version_ok() { return u8() == format_version; }
  bool at_end() const { return v_.empty(); }

 private:
  std::string_view v_;
};

} // namespace

// --- keys ------------------------------------------------------------------

std::string client_prefix(std::string_view client_id) {
  if (client_id.size() > max_client_id_bytes)
    throw std::invalid_argument("client id longer than 65535 bytes");
  std::string out;
  out.reserve(2 + client_id.size() + 8);
  out.push_back(static_cast<char>(client_id.size() >> 8));
  out.push_back(static_cast<char>(client_id.size() & 0xFF));
  out.append(client_id);
  return out;
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  // Drop trailing 0xFF bytes, then increment the last one. A client prefix
  // always has a byte below 0xFF: its first length byte.
  while (!end.empty() && static_cast<std::uint8_t>(end.back()) == 0xFF) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<std::uint8_t>(end.back()) + 1);
  return end;
}

void append_time(std::string& out, std::int64_t t) {
  std::uint64_t u = static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

std::int64_t read_time(std::string_view eight_bytes) {
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < 8; ++i) u = (u << 8) | static_cast<std::uint8_t>(eight_bytes[i]);
  return static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63));
}

std::string ledger_key(std::string_view client_id, std::int64_t at) {
  std::string key = client_prefix(client_id);
  append_time(key, at);
  return key;
}

std::optional<std::int64_t> ledger_key_time(std::string_view key, std::size_t prefix_size) {
  if (key.size() != prefix_size + 8) return std::nullopt;
  return read_time(key.substr(prefix_size));
}

std::string suffixed_key(std::string_view client_id, std::string_view suffix) {
  std::string key = client_prefix(client_id);
  key.append(suffix);
  return key;
}

// --- values ----------------------------------------------------------------

std::string encode_credits(domain::micro_credits m) {
  std::string out;
  put_i64_le(out, m);
  return out;
}

std::optional<domain::micro_credits> decode_credits(std::string_view v) {
  if (v.size() != 8) return std::nullopt;
  return reader(v).i64();
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum))
    return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  return sum;
}

std::string encode_definitions(const std::vector<domain::definition>& defs) {
  if (defs.size() > 0xFF) throw std::invalid_argument("more than 255 quota definitions");
  std::string out;
  put_u8(out, format_version);
  put_u8(out, static_cast<std::uint8_t>(defs.size()));
  for (const auto& d : defs) {
    put_u8(out, static_cast<std::uint8_t>(d.dur));
    put_i64_le(out, d.limit);
    put_i64_le(out, domain::to_epoch(d.start.at));
    std::string_view zone = d.start.zone ? std::string_view(d.start.zone->name()) : "UTC";
    put_u16_le(out, static_cast<std::uint16_t>(zone.size()));
    out.append(zone);
  }
  return out;
}

std::optional<std::vector<domain::definition>> decode_definitions(std::string_view v) {
  reader r(v);
  if (!r.version_ok()) return std::nullopt;
  auto count = r.u8();
  if (!count) return std::nullopt;
  std::vector<domain::definition> defs;
  defs.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    auto dur = r.u8();
    auto limit = r.i64();
    auto at = r.i64();
    auto zone_size = r.u16();
    if (!dur || !limit || !at || !zone_size) return std::nullopt;
    auto zone_name = r.bytes(*zone_size);
    if (!zone_name || *dur > static_cast<std::uint8_t>(domain::duration::year)) return std::nullopt;
    const date::time_zone* zone = domain::find_zone(*zone_name);
    if (!zone) return std::nullopt;
    domain::definition d;
    d.dur = static_cast<domain::duration>(*dur);
    d.limit = *limit;
    d.start = domain::anchor::make(domain::from_epoch(*at), zone);
    defs.push_back(d);
  }
  if (!r.at_end()) return std::nullopt;
  return defs;
}

std::string encode_windows(const domain::quota_set& quotas, std::int64_t rolled_until) {
  auto qs = quotas.quotas();
  if (qs.size() > 0xFF) throw std::invalid_argument("more than 255 quotas");
  std::string out;
  out.reserve(2 + 8 + qs.size() * 24);
  put_u8(out, format_version);
  put_i64_le(out, rolled_until);
  put_u8(out, static_cast<std::uint8_t>(qs.size()));
  for (const auto& q : qs) {
    put_i64_le(out, domain::to_epoch(q.current.start));
    put_i64_le(out, domain::to_epoch(q.current.end));
    put_i64_le(out, q.used);
  }
  return out;
}

std::optional<stored_windows> decode_windows(std::string_view v) {
  reader r(v);
  if (!r.version_ok()) return std::nullopt;
  auto rolled_until = r.i64();
  auto count = r.u8();
  if (!rolled_until || !count) return std::nullopt;
  stored_windows w;
  w.rolled_until = *rolled_until;
  for (std::size_t i = 0; i < *count; ++i) {
    auto start = r.i64();
    auto end = r.i64();
    auto used = r.i64();
    if (!start || !end || !used) return std::nullopt;
    w.windows.push_back({domain::from_epoch(*start), domain::from_epoch(*end)});
    w.used.push_back(*used);
  }
  if (!r.at_end()) return std::nullopt;
  return w;
}

std::string encode_answer(const stored_answer& a) {
  std::string out;
  out.reserve(1 + 4 * 8);
  put_u8(out, format_version);
  put_i64_le(out, a.credits);
  put_i64_le(out, a.remaining);
  put_i64_le(out, a.reset);
  put_i64_le(out, a.expires);
  return out;
}

std::optional<stored_answer> decode_answer(std::string_view v) {
  reader r(v);
  if (!r.version_ok()) return std::nullopt;
  auto credits = r.i64();
  auto remaining = r.i64();
  auto reset = r.i64();
  auto expires = r.i64();
  if (!credits || !remaining || !reset || !expires || !r.at_end()) return std::nullopt;
  return stored_answer{*credits, *remaining, *reset, *expires};
}

std::string encode_import(std::int64_t applied_at) {
  std::string out;
  put_u8(out, format_version);
  put_i64_le(out, applied_at);
  return out;
}

std::optional<std::int64_t> decode_import(std::string_view v) {
  reader r(v);
  if (!r.version_ok()) return std::nullopt;
  auto at = r.i64();
  if (!at || !r.at_end()) return std::nullopt;
  return at;
}

} // namespace quotad::storage::codec
