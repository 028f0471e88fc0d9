#include "actors/routing.hpp"

namespace quotad::actors {

routing_snapshot::routing_snapshot(std::string self_id, cluster::view v)
  : self(std::move(self_id)),
    view(std::move(v)),
    current(view.current_ring()),
    next(view.next_ring()),
    changing(view.changing()) {
}

bool routing_snapshot::joined() const {
  auto* m = view.find(self);
  return m && (m->state == cluster::member_state::up || m->state == cluster::member_state::leaving);
}

bool routing_snapshot::is_down(std::string_view node_id) const {
  auto* m = view.find(node_id);
  return m && m->state == cluster::member_state::down;
}

std::string routing::owner(std::string_view client_id) const {
  std::lock_guard lock{mutex_};
  const auto& s = *snapshot_;
  if (s.current.empty())
    return {};
  if (!moved_.empty()) {
    auto it = moved_.find(std::string{client_id});
    if (it != moved_.end())
      return it->second;
  }
  return s.current.owner(client_id);
}

} // namespace quotad::actors
