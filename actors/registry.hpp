// The per-node registry of client actors: finds a client's actor, spawning
// it on first use, and lets an idle actor retire (passivate) safely.
//
// A lookup counts one job in flight for the actor; the actor counts it off
// once handled. An actor retires only while nothing is in flight, checked
// under the same lock that lookups take, so no job is ever sent to an actor
// that has already decided to quit: the next lookup spawns a fresh one,
// which reloads the client's state from disk.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "actors/protocol.hpp"

namespace quotad::actors {

class registry {
 public:
  struct entry {
    client_actor actor;
    std::atomic<std::uint32_t> in_flight{0};
    std::atomic<std::uint32_t> last_sweep{0};  // the sweep during which it last handled a job
  };

  /// Spawns the actor of a client; called under the registry's lock.
  using spawner = std::function<client_actor(const std::string& client_id, entry*)>;

  explicit registry(spawner spawn);

  /// The actor of `client_id`, with one more job counted in flight.
  client_actor acquire(std::string_view client_id);

  /// Called by the actor when it handled a job.
  void handled(entry* e) {
    e->last_sweep.store(sweeps_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    e->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  }

  /// Visits the actors that handled no job during the last `idle_sweeps`
  /// sweeps and have none in flight. Called periodically: one clock for all
  /// actors instead of a timer each keeps an idle client small.
  void sweep(std::uint32_t idle_sweeps, const std::function<void(const client_actor&)>& visit);

  /// Removes the actor's entry if nothing is in flight; the actor must quit
  /// when this returns true.
  bool try_retire(const std::string& client_id, entry* e);

  /// Visits every live actor (for shutdown).
  void for_each(const std::function<void(const client_actor&)>& visit);

  std::size_t size() const { return size_.load(std::memory_order_relaxed); }
  std::uint64_t spawned() const { return spawned_.load(std::memory_order_relaxed); }
  std::uint64_t retired() const { return retired_.load(std::memory_order_relaxed); }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct shard {
    std::mutex mutex;
    std::unordered_map<std::string, entry, string_hash, std::equal_to<>> entries;
  };
  static constexpr std::size_t shard_count = 64;

  shard& shard_of(std::string_view client_id) {
    return shards_[string_hash{}(client_id) % shard_count];
  }

  spawner spawn_;
  std::array<shard, shard_count> shards_;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> spawned_{0};
  std::atomic<std::uint64_t> retired_{0};
  std::atomic<std::uint32_t> sweeps_{0};
};

} // namespace quotad::actors
