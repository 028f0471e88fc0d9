#include "cluster/membership.hpp"

#include <algorithm>

namespace quotad::cluster {

std::string_view to_string(member_state s) {
  switch (s) {
    case member_state::joining: return "joining";
    case member_state::up: return "up";
    case member_state::leaving: return "leaving";
    case member_state::down: return "down";
  }
  return "unknown";
}

namespace {

auto by_id(std::vector<member>& ms, std::string_view id) {
  return std::lower_bound(ms.begin(), ms.end(), id,
                          [](const member& m, std::string_view x) { return m.node_id < x; });
}

ring ring_without(const std::vector<member>& ms, member_state excluded) {
  std::vector<std::string> ids;
  for (const auto& m : ms)
    if (m.state != excluded)
      ids.push_back(m.node_id);
  return ring{std::move(ids)};
}

} // namespace

const member* view::find(std::string_view node_id) const {
  auto it = by_id(const_cast<std::vector<member>&>(members), node_id);
  return it != members.end() && it->node_id == node_id ? &*it : nullptr;
}

member* view::find(std::string_view node_id) {
  auto it = by_id(members, node_id);
  return it != members.end() && it->node_id == node_id ? &*it : nullptr;
}

void view::upsert(member m) {
  auto it = by_id(members, m.node_id);
  if (it != members.end() && it->node_id == m.node_id)
    *it = std::move(m);
  else
    members.insert(it, std::move(m));
}

void view::erase(std::string_view node_id) {
  auto it = by_id(members, node_id);
  if (it != members.end() && it->node_id == node_id)
    members.erase(it);
}

std::optional<std::string> view::coordinator() const {
  for (const auto& m : members)
    if (m.state == member_state::up || m.state == member_state::leaving)
      return m.node_id;
  return std::nullopt;
}

bool view::changing() const {
  return std::any_of(members.begin(), members.end(), [](const member& m) {
    return m.state == member_state::joining || m.state == member_state::leaving;
  });
}

ring view::current_ring() const {
  return ring_without(members, member_state::joining);
}

ring view::next_ring() const {
  return ring_without(members, member_state::leaving);
}

bool view::all_up() const {
  return std::all_of(members.begin(), members.end(),
                     [](const member& m) { return m.state == member_state::up; });
}

} // namespace quotad::cluster
