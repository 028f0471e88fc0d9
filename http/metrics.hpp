// The front door's own Prometheus figures. Lock-free: every update is one
// relaxed atomic add, so counting costs the hot path next to nothing.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace quotad::http {

/// Route templates: the `route` label, never the raw path (bounded cardinality).
enum class route : std::uint8_t {
  healthz,
  readyz,
  metrics,
  cluster,
  cluster_member,       // /v1/cluster/members/{id}
  cluster_leave,        // /v1/cluster:leave
  client,               // /v1/clients/{id}
  client_quotas,        // /v1/clients/{id}/quotas
  client_usage,         // /v1/clients/{id}/usage
  client_usage_import,  // /v1/clients/{id}/usage:import
  usage_batch,          // /v1/usage:batch
  authorize,            // /v1/authorize
  testing_clock,        // /v1/testing/clock
  testing_clock_advance,
  other,                // no route matched, or the request did not parse
};
inline constexpr std::size_t route_count = static_cast<std::size_t>(route::other) + 1;

std::string_view route_template(route r);

enum class debit_outcome : std::uint8_t { allowed, refused, unknown_client, unavailable };
inline constexpr std::size_t debit_outcome_count = 4;

class metrics {
 public:
  /// Upper bounds of the latency buckets, in seconds (plus +Inf).
  static constexpr std::array<double, 14> bucket_bounds{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};

  void record(route r, unsigned status, std::chrono::nanoseconds elapsed);
  void count_debit(debit_outcome o) { debits_[static_cast<std::size_t>(o)].fetch_add(1, relaxed); }
  void connection_opened() {
    open_connections_.fetch_add(1, relaxed);
    connections_total_.fetch_add(1, relaxed);
  }
  void connection_closed() { open_connections_.fetch_sub(1, relaxed); }

  std::uint64_t requests(route r, unsigned status) const;
  std::uint64_t debits(debit_outcome o) const { return debits_[static_cast<std::size_t>(o)].load(relaxed); }
  std::int64_t open_connections() const { return open_connections_.load(relaxed); }

  /// Prometheus text exposition of everything above.
  void append(std::string& out) const;

 private:
  static constexpr auto relaxed = std::memory_order_relaxed;
  static constexpr unsigned min_status = 100, max_status = 599;
  static constexpr std::size_t status_slots = max_status - min_status + 1;

  struct route_figures {
    std::array<std::atomic<std::uint64_t>, status_slots> by_status{};
    std::array<std::atomic<std::uint64_t>, bucket_bounds.size() + 1> buckets{};  // not cumulative
    std::atomic<std::uint64_t> latency_ns{};
  };

  std::array<route_figures, route_count> routes_{};
  std::array<std::atomic<std::uint64_t>, debit_outcome_count> debits_{};
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::uint64_t> connections_total_{0};
};

} // namespace quotad::http
