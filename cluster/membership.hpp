// The cluster's member list and the rules every node applies to it.
//
// One member coordinates: the `up` (or `leaving`) member with the lowest
// node id, so a leaving coordinator completes its own leave. It alone
// changes the list, raising the epoch by one with each change, and sends the
// new list to every member; the others adopt any list with a higher epoch.
// Ring changes (a join or a leave) happen one at a time: while a member is
// `joining` or `leaving`, clients move from the current ring to the next.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/ring.hpp"

namespace quotad::cluster {

enum class member_state : std::uint8_t { joining, up, leaving, down };

std::string_view to_string(member_state s);

struct member {
  std::string node_id;
  std::string http;     // HOST:PORT of its front door
  std::string cluster;  // HOST:PORT of its cluster listener
  member_state state = member_state::joining;
  friend bool operator==(const member&, const member&) = default;
};

struct view {
  std::uint64_t epoch = 0;
  std::vector<member> members;  // sorted by node_id

  const member* find(std::string_view node_id) const;
  member* find(std::string_view node_id);
  /// Inserts or replaces by node_id, keeping the order.
  void upsert(member m);
  void erase(std::string_view node_id);

  /// The member allowed to change the list: the lowest `up` node id.
  std::optional<std::string> coordinator() const;

  /// A join or a leave is in progress.
  bool changing() const;

  /// Owners now: every member but those still joining. A member that is
  /// down keeps its clients (they answer 503 until it returns).
  ring current_ring() const;
  /// Owners once the change in progress completes: every member but those
  /// leaving. Equal to current_ring() when nothing changes.
  ring next_ring() const;

  /// Settled and every member up.
  bool all_up() const;

};

} // namespace quotad::cluster
