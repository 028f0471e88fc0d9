#include "cluster/membership.hpp"

#include <algorithm>
#include <cstdio>

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

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
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

std::string view::to_json(std::string_view self_id) const {
  std::string out = "{\"node_id\":";
  append_json_string(out, self_id);
  out += ",\"epoch\":" + std::to_string(epoch) + ",\"members\":[";
  bool first = true;
  for (const auto& m : members) {
    if (!first)
      out += ',';
    first = false;
    out += "{\"node_id\":";
    append_json_string(out, m.node_id);
    out += ",\"http\":";
    append_json_string(out, m.http);
    out += ",\"cluster\":";
    append_json_string(out, m.cluster);
    out += ",\"state\":\"";
    out += to_string(m.state);
    out += "\"}";
  }
  out += "]}";
  return out;
}

} // namespace quotad::cluster
