// The messages a client actor understands, one line each.
//
// Client actors live on the node that owns the client and are only ever
// addressed locally (through the registry): jobs carry their reply as a
// callback, so they are whitelisted as local-only message types. Requests
// from other nodes are turned into such jobs by the node that receives them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>

#include "service/quota_service.hpp"

namespace quotad::actors {

using debit_atom = caf::atom_constant<caf::atom("debit")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using define_atom = caf::atom_constant<caf::atom("define")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using usage_atom = caf::atom_constant<caf::atom("usage")>;
using erase_atom = caf::atom_constant<caf::atom("erase")>;
using import_atom = caf::atom_constant<caf::atom("import")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using move_atom = caf::atom_constant<caf::atom("move")>;

struct debit_job {
  service::debit_request request;
  service::reply<service::debit_result> done;
};

struct status_job {
  service::reply<service::client_result> done;
};

struct define_job {
  std::vector<domain::definition> definitions;
  service::reply<service::client_result> done;
};

struct usage_job {
  service::usage_query query;
  service::reply<service::usage_result> done;
};

struct erase_job {  // delete ledger entries in a range
  std::optional<std::int64_t> from;
  std::optional<std::int64_t> to;
  service::reply<service::client_result> done;
};

struct import_job {
  std::string import_id;
  std::vector<service::usage_record> records;
  service::reply<service::client_result> done;
};

/// One client's quota actor: serializes every change to that client.
using client_actor = caf::typed_actor<
  // Debit credits (or answer as if, for a dry run).
  caf::reacts_to<debit_atom, debit_job>,
  // Report the status document.
  caf::reacts_to<status_atom, status_job>,
  // Replace the definitions; recompute windows from the ledger.
  caf::reacts_to<define_atom, define_job>,
  // Forget the client entirely.
  caf::reacts_to<forget_atom, status_job>,
  // Answer a ledger query.
  caf::reacts_to<usage_atom, usage_job>,
  // Delete ledger entries in a range; recompute windows.
  caf::reacts_to<erase_atom, erase_job>,
  // Add imported history; recompute windows.
  caf::reacts_to<import_atom, import_job>,
  // The write path committed mutation `seq` (ok = written to the WAL).
  caf::reacts_to<committed_atom, std::uint64_t, bool>,
  // No job for a while: retire if nothing is pending.
  caf::reacts_to<tick_atom>,
  // Hand the client over to the node with this id and cluster actor.
  caf::reacts_to<move_atom, std::string, caf::actor>>;

} // namespace quotad::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::debit_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::status_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::define_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::usage_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::erase_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::import_job)
