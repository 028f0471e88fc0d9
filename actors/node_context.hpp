// What the parts of a node share: storage, clock, settings, the registry of
// client actors, routing, and the cluster actor that talks to other nodes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>

#include "actors/settings.hpp"
#include "service/clock.hpp"
#include "storage/database.hpp"

namespace quotad::actors {

class registry;
class routing;

struct node_context {
  storage::database& db;
  service::node_clock& clock;
  registry& clients;
  routing& routes;
  node_settings settings;
  std::string node_id;
  caf::actor cluster;  // set once the cluster actor runs

  // Figures for /metrics.
  std::atomic<std::uint64_t> debits_allowed{0};
  std::atomic<std::uint64_t> debits_refused{0};
  std::atomic<std::uint64_t> write_failures{0};
  std::atomic<std::uint64_t> rollups{0};
  std::atomic<std::uint64_t> forwarded{0};       // requests sent to other nodes
  std::atomic<std::uint64_t> received{0};        // requests answered for other nodes
  std::atomic<std::uint64_t> forward_failures{0};
  std::atomic<std::int64_t> forwards_in_flight{0};  // sent, not yet answered
  std::atomic<std::uint64_t> clients_moved_out{0};
  std::atomic<std::uint64_t> clients_moved_in{0};
};

} // namespace quotad::actors
