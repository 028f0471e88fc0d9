// The cluster actor: this node's voice in the cluster, published on the
// cluster port. It keeps the member list, coordinates joins and leaves when
// it is the coordinator, forwards requests to other nodes (pipelined: many
// in flight per peer), answers requests forwarded to this node, and moves
// clients to their new owners when the ring changes.
//
// Messages between nodes (all types in wire.hpp):
//   (join, wire_member) -> wire_view          ask to join or rejoin
//   (view, wire_view)                         the coordinator's member list
//   (leave, node_id) -> bool                  ask to leave (false: busy, retry)
//   (handoff, node_id, epoch)                 a member moved all its clients
//   (peerdown, node_id)                       a member saw a peer go down
//   (debit, wire_debit_request) -> wire_debit_result
//   (batch, vector<wire_debit_request>) -> vector<wire_debit_result>
//   (change, wire_change) -> wire_client_result
//   (usage, wire_usage_query) -> wire_usage_result
//   (adopt, wire_client_state) -> bool        a client moving in
// Local messages: remote_debit/batch/change/usage (dispatch.hpp), (moved,
// client_id, ok) from client actors, (leave) from the node on shutdown.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/actor_system.hpp>

#include "actors/node_context.hpp"
#include "cluster/membership.hpp"

namespace quotad::actors {

using join_atom = caf::atom_constant<caf::atom("join")>;
using view_atom = caf::atom_constant<caf::atom("view")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using handoff_atom = caf::atom_constant<caf::atom("handoff")>;
using peer_down_atom = caf::atom_constant<caf::atom("peerdown")>;
using batch_atom = caf::atom_constant<caf::atom("batch")>;
using change_atom = caf::atom_constant<caf::atom("change")>;
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using moved_atom = caf::atom_constant<caf::atom("moved")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;

/// Registers every type that crosses the network.
void add_wire_types(caf::actor_system_config& cfg);

struct cluster_settings {
  cluster::member self;                  // state ignored
  std::vector<std::string> join_through;  // cluster addresses (seeds, past members)
  cluster::view start_view;               // what this node starts from
  /// The member list kept from the last run, if this node was in a cluster.
  std::optional<cluster::view> remembered;
};

/// Starts the cluster actor of this node.
caf::actor spawn_cluster_actor(caf::actor_system& system, node_context* ctx,
                               cluster_settings settings);

/// The member list as kept in the data directory between runs.
std::string encode_view(const cluster::view& v);
std::optional<cluster::view> decode_view(std::string_view text);

} // namespace quotad::actors
