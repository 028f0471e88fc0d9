// Window arithmetic: which window of a definition contains an instant (SPEC §2).
#pragma once

#include "domain/duration.hpp"
#include "domain/time.hpp"

namespace quotad::domain {

/// A window [start, end): includes its start, excludes its end.
struct window {
  instant start{};
  instant end{};
  bool contains(instant t) const { return start <= t && t < end; }
  friend bool operator==(const window&, const window&) = default;
};

/// Where a definition's windows are counted from: the original anchor,
/// never the previous window (no drift).
struct anchor {
  instant at{};                       // the anchor instant
  const date::time_zone* zone = nullptr;  // never null once built
  date::local_seconds local{};        // `at` as local time in `zone`

  static anchor make(instant at, const date::time_zone* zone);
};

/// The window of `d` counted from `a` that contains `t`; `t` may lie before
/// the anchor (windows are counted backwards from it the same way).
/// SECOND/MINUTE/HOUR: fixed lengths from the anchor instant.
/// DAY/WEEK: the anchor's local time of day every 1/7 local days.
/// MONTH: the anchor's local day (clamped to the month's last day) and time.
/// YEAR: the anchor's local month/day (Feb 29 → Feb 28) and time.
window window_at(duration d, const anchor& a, instant t);

/// The k-th boundary of `d` from `a` (k = 0 is the anchor itself; k may be
/// negative). Exposed for tests; `window_at` is built on it.
instant boundary(duration d, const anchor& a, std::int64_t k);

} // namespace quotad::domain
