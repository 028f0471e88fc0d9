// What every client actor of a node shares: storage, clock, settings.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "service/clock.hpp"
#include "storage/database.hpp"

namespace quotad::actors {

class registry;

struct node_settings {
  /// An actor with no job for this long retires; its state is on disk.
  std::chrono::seconds idle_timeout{60};
  /// Idempotency records are kept this long (SPEC §4: 24 h).
  std::int64_t idempotency_retention = 24 * 3600;
  /// Ledger entries older than this are rolled up into 15-minute buckets.
  std::int64_t exact_ledger_seconds = 8 * 86400;
};

struct node_context {
  storage::database& db;
  service::node_clock& clock;
  registry& clients;
  node_settings settings;
  std::string node_id;

  // Figures for /metrics.
  std::atomic<std::uint64_t> debits_allowed{0};
  std::atomic<std::uint64_t> debits_refused{0};
  std::atomic<std::uint64_t> write_failures{0};
  std::atomic<std::uint64_t> rollups{0};
};

} // namespace quotad::actors
