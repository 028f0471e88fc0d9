// What crosses the network between nodes: plain structs with a CAF
// `inspect` each, and conversions from and to the service and domain types
// (whose zones are pointers, which no wire can carry).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "cluster/membership.hpp"
#include "service/quota_service.hpp"
#include "storage/database.hpp"

namespace quotad::actors {

struct wire_quota {
  std::uint8_t dur = 0;
  std::int64_t limit = 0;
  std::int64_t anchor = 0;  // epoch seconds
  std::string zone;
  std::int64_t start = 0, end = 0, used = 0;
};

struct wire_debit_request {
  std::string client_id;
  std::int64_t credits = 0;
  std::string idempotency_key;
  bool dry_run = false;
  bool want_quotas = true;
  std::uint8_t hops = 0;  // how often it was forwarded already
};

struct wire_debit_result {
  std::uint8_t result = 0;
  std::int64_t credits = 0;
  bool has_quota = false;
  std::int64_t remaining = 0, reset = 0, retry_after = 0;
  std::uint8_t violated = 0;
  std::int32_t reported = -1;
  bool replayed = false;
  std::vector<wire_quota> quotas;
  std::int64_t now = 0;
  std::string detail, owner;
};

struct wire_client_result {
  std::uint8_t result = 0;
  std::string client_id;
  std::vector<wire_quota> quotas;
  std::int32_t lowest = -1;
  std::int64_t now = 0;
  std::string detail, owner;
};

struct wire_usage_query {
  std::string client_id;
  bool has_from = false, has_to = false;
  std::int64_t from = 0, to = 0;
  bool daily = false;
  std::string zone;
  std::uint8_t hops = 0;
};

struct wire_day {
  std::int64_t start = 0;
  std::string date;
  std::int64_t credits = 0;
};

struct wire_usage_result {
  std::uint8_t result = 0;
  std::int64_t total = 0;
  std::vector<wire_day> days;
  std::string detail, owner;
};

/// A change to a client that is not a debit or a query.
struct wire_change {
  std::uint8_t kind = 0;  // see change_kind
  std::string client_id;
  std::vector<wire_quota> definitions;  // define (windows unused)
  bool has_from = false, has_to = false;
  std::int64_t from = 0, to = 0;        // erase
  std::string import_id;                // import
  std::vector<std::pair<std::int64_t, std::int64_t>> records;  // import: (at, credits)
  std::uint8_t hops = 0;
};
enum class change_kind : std::uint8_t { define, forget, erase, import, status };

/// Everything stored about a client, as it moves to its new owner.
struct wire_client_state {
  std::string client_id;
  bool known = false;              // has definitions (maybe an empty list)
  std::vector<wire_quota> quotas;  // definitions with their windows
  std::int64_t rolled_until = 0;
  std::vector<std::int64_t> windows;  // per quota: start, end, used (empty: recompute)
  std::vector<std::pair<std::int64_t, std::int64_t>> ledger;  // (at, credits)
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> answers;  // key → credits, remaining, reset, expires
  std::vector<std::pair<std::string, std::int64_t>> imports;
};

struct wire_member {
  std::string node_id, http, cluster;
  std::uint8_t state = 0;
};

struct wire_view {
  std::uint64_t epoch = 0;
  std::vector<wire_member> members;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_quota& x) {
  return f(caf::meta::type_name("wire_quota"), x.dur, x.limit, x.anchor, x.zone, x.start, x.end,
           x.used);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_debit_request& x) {
  return f(caf::meta::type_name("wire_debit_request"), x.client_id, x.credits, x.idempotency_key,
           x.dry_run, x.want_quotas, x.hops);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_debit_result& x) {
  return f(caf::meta::type_name("wire_debit_result"), x.result, x.credits, x.has_quota,
           x.remaining, x.reset, x.retry_after, x.violated, x.reported, x.replayed, x.quotas, x.now,
           x.detail, x.owner);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_client_result& x) {
  return f(caf::meta::type_name("wire_client_result"), x.result, x.client_id, x.quotas, x.lowest,
           x.now, x.detail, x.owner);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_usage_query& x) {
  return f(caf::meta::type_name("wire_usage_query"), x.client_id, x.has_from, x.has_to, x.from,
           x.to, x.daily, x.zone, x.hops);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_day& x) {
  return f(caf::meta::type_name("wire_day"), x.start, x.date, x.credits);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_usage_result& x) {
  return f(caf::meta::type_name("wire_usage_result"), x.result, x.total, x.days, x.detail,
           x.owner);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_change& x) {
  return f(caf::meta::type_name("wire_change"), x.kind, x.client_id, x.definitions, x.has_from,
           x.has_to, x.from, x.to, x.import_id, x.records, x.hops);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_client_state& x) {
  return f(caf::meta::type_name("wire_client_state"), x.client_id, x.known, x.quotas, x.rolled_until, x.windows,
           x.ledger, x.answers, x.imports);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_member& x) {
  return f(caf::meta::type_name("wire_member"), x.node_id, x.http, x.cluster, x.state);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_view& x) {
  return f(caf::meta::type_name("wire_view"), x.epoch, x.members);
}

// --- conversions -----------------------------------------------------------

wire_quota to_wire(const domain::quota& q);
wire_quota to_wire(const domain::definition& d);
/// False when a zone or duration is unknown on this node.
bool from_wire(const wire_quota& w, domain::quota& out);
bool from_wire(const wire_quota& w, domain::definition& out);

wire_debit_request to_wire(const service::debit_request& r);
service::debit_request from_wire(wire_debit_request w);
wire_debit_result to_wire(const service::debit_result& r);
service::debit_result from_wire(wire_debit_result w);
wire_client_result to_wire(const service::client_result& r);
service::client_result from_wire(wire_client_result w);
wire_usage_query to_wire(const service::usage_query& q);
service::usage_query from_wire(wire_usage_query w);
wire_usage_result to_wire(const service::usage_result& r);
service::usage_result from_wire(wire_usage_result w);

wire_client_state to_wire_state(const std::string& client_id, const storage::client_export& e);
/// Fills a mutation that replaces whatever this node has of the client with
/// the moving state. False if a definition names a zone unknown here.
bool adopt_into(const wire_client_state& w, storage::mutation& m);

wire_view to_wire(const cluster::view& v);
cluster::view from_wire(const wire_view& w);

} // namespace quotad::actors
