#include "domain/window.hpp"

#include <algorithm>

namespace quotad::domain {

namespace {

using std::chrono::seconds;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Length of a fixed window; 0 for the calendar durations.
std::int64_t fixed_length(duration d) {
  switch (d) {
    case duration::second: return 1;
    case duration::minute: return 60;
    case duration::hour: return 3600;
    default: return 0;
  }
}

// Mean length of a calendar window, to estimate how many lie between two
// instants; boundary() then corrects the estimate by a step or two.
std::int64_t mean_length(duration d) {
  switch (d) {
    case duration::day: return 86'400;
    case duration::week: return 604'800;
    case duration::month: return 2'629'746;  // 365.2425 days / 12
    case duration::year: return 31'556'952;  // 365.2425 days
    default: return fixed_length(d);
  }
}

// The anchor's local date shifted by `months`, its day clamped to the
// target month's last day, at the anchor's local time of day.
date::local_seconds add_months_clamped(date::local_seconds anchor_local, std::int64_t months) {
  auto anchor_day = std::chrono::floor<date::days>(anchor_local);
  seconds time_of_day = anchor_local - anchor_day;
  date::year_month_day ymd{anchor_day};

  std::int64_t month_index =
      static_cast<std::int64_t>(static_cast<int>(ymd.year())) * 12 + static_cast<unsigned>(ymd.month()) - 1 + months;
  date::year year{static_cast<int>(floor_div(month_index, 12))};
  date::month month{static_cast<unsigned>(month_index - floor_div(month_index, 12) * 12 + 1)};
  date::day last = date::year_month_day_last{year, date::month_day_last{month}}.day();
  date::day day = std::min(ymd.day(), last);
  return date::local_days{date::year_month_day{year, month, day}} + time_of_day;
}

}  // namespace

anchor anchor::make(instant at, const date::time_zone* zone) {
  date::local_seconds local{at.time_since_epoch()};
  if (zone != nullptr) local = zone->to_local(at);
  return anchor{at, zone, local};
}

instant boundary(duration d, const anchor& a, std::int64_t k) {
  // The anchor instant itself, even when its local time occurs twice and
  // it is the second occurrence (given with an offset or as epoch seconds).
  if (k == 0) return a.at;
  switch (d) {
    case duration::second:
    case duration::minute:
    case duration::hour:
      return a.at + seconds{k * fixed_length(d)};
    case duration::day:
      return to_instant(a.zone, a.local + date::days{k});
    case duration::week:
      return to_instant(a.zone, a.local + date::days{7 * k});
    case duration::month:
      return to_instant(a.zone, add_months_clamped(a.local, k));
    case duration::year:
      return to_instant(a.zone, add_months_clamped(a.local, 12 * k));
  }
  return a.at;
}

window window_at(duration d, const anchor& a, instant t) {
  std::int64_t elapsed = (t - a.at).count();
  if (std::int64_t length = fixed_length(d); length != 0) {
    instant start = a.at + seconds{floor_div(elapsed, length) * length};
    return window{start, start + seconds{length}};
  }

  // Boundaries increase with k, so step from the estimate until
  // boundary(k) <= t < boundary(k + 1). DST shifts and uneven months keep
  // the estimate within a step or two of the answer.
  std::int64_t k = floor_div(elapsed, mean_length(d));
  instant start = boundary(d, a, k);
  while (start > t) start = boundary(d, a, --k);
  instant end = boundary(d, a, k + 1);
  while (end <= t) {
    start = end;
    end = boundary(d, a, ++k + 1);
  }
  return window{start, end};
}

}  // namespace quotad::domain
