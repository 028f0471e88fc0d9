#include "actors/registry.hpp"

#include <tuple>

namespace quotad::actors {

registry::registry(spawner spawn) : spawn_(std::move(spawn)) {}

client_actor registry::acquire(std::string_view client_id) {
  auto& s = shard_of(client_id);
  std::lock_guard lock{s.mutex};
  auto it = s.entries.find(client_id);
  if (it == s.entries.end()) {
    it = s.entries.emplace(std::piecewise_construct, std::forward_as_tuple(client_id),
                           std::forward_as_tuple()).first;
    it->second.actor = spawn_(it->first, &it->second);
    it->second.last_sweep.store(sweeps_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    size_.fetch_add(1, std::memory_order_relaxed);
    spawned_.fetch_add(1, std::memory_order_relaxed);
  }
  it->second.in_flight.fetch_add(1, std::memory_order_acq_rel);
  return it->second.actor;
}

bool registry::try_retire(const std::string& client_id, entry* e) {
  auto& s = shard_of(client_id);
  std::lock_guard lock{s.mutex};
  if (e->in_flight.load(std::memory_order_acquire) != 0)
    return false;
  auto it = s.entries.find(client_id);
  if (it == s.entries.end() || &it->second != e)
    return false;
  s.entries.erase(it);
  size_.fetch_sub(1, std::memory_order_relaxed);
  retired_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void registry::sweep(std::uint32_t idle_sweeps,
                     const std::function<void(const client_actor&)>& visit) {
  auto now = sweeps_.fetch_add(1, std::memory_order_relaxed) + 1;
  for (auto& s : shards_) {
    std::lock_guard lock{s.mutex};
    for (auto& [id, e] : s.entries)
      if (e.in_flight.load(std::memory_order_acquire) == 0
          && now - e.last_sweep.load(std::memory_order_relaxed) >= idle_sweeps)
        visit(e.actor);
  }
}

void registry::for_each(const std::function<void(const client_actor&)>& visit) {
  for (auto& s : shards_) {
    std::lock_guard lock{s.mutex};
    for (auto& [id, e] : s.entries)
      visit(e.actor);
  }
}

} // namespace quotad::actors
