// Instants, time zones and ISO-8601 text. Pure: no clock is read here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <date/tz.h>

namespace quotad::domain {

/// An instant with second resolution, UTC.
using instant = std::chrono::sys_seconds;

inline instant from_epoch(std::int64_t s) { return instant{std::chrono::seconds{s}}; }
inline std::int64_t to_epoch(instant t) { return t.time_since_epoch().count(); }

/// IANA zone lookup; nullptr when unknown. Thread-safe after the first call.
const date::time_zone* find_zone(std::string_view name);

/// A parsed ISO-8601 date-time or epoch. Text without an offset is local
/// time, to be read in a zone chosen by the caller (SPEC §1).
struct parsed_time {
  bool has_offset = false;      // true for "Z", "+01:00", epoch seconds
  instant utc{};                // valid when has_offset
  date::local_seconds local{};  // valid when !has_offset
};

/// Accepts "2022-01-01", "2022-01-01T00:00", "2022-01-01T00:00:00",
/// optional fractional seconds (truncated), optional "Z" / "+hh:mm" /
/// "+hhmm" / "+hh", a space instead of "T". nullopt when invalid
/// (including impossible dates such as 2023-02-29).
std::optional<parsed_time> parse_iso8601(std::string_view text);

/// Resolves a parsed time to an instant: offset times as they are, local
/// times in `zone` (gap: first instant after it; overlap: earliest).
instant resolve(const parsed_time& t, const date::time_zone* zone);

/// Local time → instant with SPEC §2's rules: a local time that falls in a
/// spring-forward gap maps to the first instant after the gap; an ambiguous
/// one (fall-back) to its first occurrence.
instant to_instant(const date::time_zone* zone, date::local_seconds local);

/// "2026-12-04T00:00:00Z".
std::string format_iso_utc(instant t);
void append_iso_utc(std::string& out, instant t);

/// "2026-12-04 00:00:00" in UTC: the seed's renewal text in 429 details.
std::string format_seed_time(instant t);

} // namespace quotad::domain
