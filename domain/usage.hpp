// Grouping ledger entries by calendar day in a time zone (SPEC §5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/credits.hpp"
#include "domain/time.hpp"

namespace quotad::domain {

struct day_total {
  std::int64_t start = 0;  // the local day's start, epoch seconds
  std::string date;        // "2026-12-01", the local date
  micro_credits credits = 0;
};

/// Feed ledger entries in time order; get one total per local day that had
/// usage, sorted by time.
class daily_usage {
 public:
  explicit daily_usage(const date::time_zone* zone);  // never null
  void add(std::int64_t at, micro_credits credits);
  std::vector<day_total> finish();

 private:
  const date::time_zone* zone_;
  std::vector<day_total> days_;
  std::int64_t day_end_ = 0;  // end of the last day in days_
};

} // namespace quotad::domain
