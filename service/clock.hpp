// The node's clock: the system clock, or the testing clock (SPEC §6), which
// stands still and moves only when set or advanced.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "domain/time.hpp"

namespace quotad::service {

class node_clock {
 public:
  explicit node_clock(bool testing = false) : testing_(testing) {
    fixed_.store(system_now(), std::memory_order_relaxed);
  }

  bool testing() const { return testing_; }

  domain::instant now() const {
    return domain::from_epoch(testing_ ? fixed_.load(std::memory_order_relaxed) : system_now());
  }
  std::int64_t now_epoch() const { return domain::to_epoch(now()); }

  /// Only meaningful with the testing clock; ignored otherwise.
  void set(domain::instant t) { fixed_.store(domain::to_epoch(t), std::memory_order_relaxed); }
  void advance(std::int64_t seconds) { fixed_.fetch_add(seconds, std::memory_order_relaxed); }

 private:
  static std::int64_t system_now() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  }

  bool testing_;
  std::atomic<std::int64_t> fixed_{0};
};

} // namespace quotad::service
