// A node's tunable settings, shared by the node and its client actors.
#pragma once

#include <chrono>
#include <cstdint>

namespace quotad::actors {

struct node_settings {
  /// An actor with no job for this long retires; its state is on disk.
  std::chrono::seconds idle_timeout{60};
  /// Idempotency records are kept this long (SPEC §4: 24 h).
  std::int64_t idempotency_retention = 24 * 3600;
  /// Ledger entries older than this are rolled up into 15-minute buckets.
  std::int64_t exact_ledger_seconds = 8 * 86400;
  /// A request forwarded to another node is answered 503 after this long.
  std::chrono::milliseconds forward_timeout{4500};
};

} // namespace quotad::actors
