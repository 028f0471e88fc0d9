#include "domain/usage.hpp"

#include <algorithm>

namespace quotad::domain {

namespace {

std::string format_date(date::local_days day) {
  // format_seed_time prints "YYYY-MM-DD HH:MM:SS"; the date is its first part.
  return format_seed_time(instant{day.time_since_epoch()}).substr(0, 10);
}

}  // namespace

daily_usage::daily_usage(const date::time_zone* zone) : zone_(zone) {}

void daily_usage::add(std::int64_t at, micro_credits credits) {
  if (days_.empty() || at >= day_end_) {
    auto local_day = std::chrono::floor<date::days>(zone_->to_local(from_epoch(at)));
    // A local midnight inside a DST gap resolves to the first instant after it.
    day_total day;
    day.start = to_epoch(to_instant(zone_, local_day));
    day.date = format_date(local_day);
    days_.push_back(std::move(day));
    day_end_ = to_epoch(to_instant(zone_, local_day + date::days{1}));
  }
  days_.back().credits = saturating_add(days_.back().credits, credits);
}

std::vector<day_total> daily_usage::finish() {
  std::erase_if(days_, [](const day_total& day) { return day.credits == 0; });
  std::vector<day_total> result = std::move(days_);
  days_.clear();
  day_end_ = 0;
  return result;
}

}  // namespace quotad::domain
