// The boundary between a front door and the quota cluster behind it.
//
// A front door (http/) turns requests into these calls; the node (actors/)
// answers them, locally or by forwarding. Callbacks run on an arbitrary
// thread, exactly once: a front door moves the result to its own executor.
// Nothing here knows HTTP, actors or RocksDB.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/quota.hpp"
#include "domain/usage.hpp"

namespace quotad::service {

using domain::micro_credits;

enum class outcome : std::uint8_t {
  ok,
  refused,         // a debit over quota (429)
  unknown_client,  // never given quotas (403 on debits, 404 on reads)
  conflict,        // a request that contradicts stored state (409)
  unavailable,     // the owner cannot answer now; nothing was applied (503)
};

/// A client's quotas as reported: the status document (SPEC §6).
struct client_view {
  std::string client_id;
  std::vector<domain::quota> quotas;  // sorted by duration
  std::optional<std::size_t> lowest;  // index into quotas
  domain::instant now{};
};

struct client_result {
  outcome result = outcome::ok;
  client_view view;
  std::string detail;  // for conflict / unavailable
  std::string owner;   // node id that answered (X-Quotad-Owner)
};

struct debit_request {
  std::string client_id;
  micro_credits credits = domain::micro_per_credit;
  std::string idempotency_key;  // empty: none
  bool dry_run = false;
  /// Whether the result should carry every quota (for the rate-limit
  /// headers); batch items need only remaining/reset.
  bool want_quotas = true;
};

struct debit_result {
  outcome result = outcome::ok;  // ok, refused, unknown_client, unavailable
  micro_credits credits = 0;     // what this debit used (0 when refused)
  /// The reported quota: the lowest after the debit, or on a refusal the
  /// violated quota with the fewest remaining credits. remaining is -1 when
  /// unlimited; has_quota is false for a client with an empty list.
  bool has_quota = false;
  micro_credits remaining = 0;
  std::int64_t reset = 0;         // epoch seconds
  std::int64_t retry_after = 0;   // seconds, on a refusal
  std::uint8_t violated = 0;      // bit i: quotas[i] violated
  int reported = -1;              // index into quotas of the reported quota; -1: none
  bool replayed = false;          // answer of an earlier debit with this key
  std::vector<domain::quota> quotas;  // when want_quotas
  domain::instant now{};
  std::string detail;  // for unavailable
  std::string owner;
};

struct usage_query {
  std::string client_id;
  std::optional<std::int64_t> from;  // inclusive, epoch seconds
  std::optional<std::int64_t> to;    // inclusive
  bool daily = false;
  const date::time_zone* zone = nullptr;  // for daily; null: UTC
};

using day_usage = domain::day_total;

struct usage_result {
  outcome result = outcome::ok;  // ok, unknown_client, unavailable
  micro_credits total = 0;
  std::vector<day_usage> days;
  std::string detail;
  std::string owner;
};

struct usage_record {
  std::int64_t at = 0;  // epoch seconds
  micro_credits credits = 0;
};

struct member_info {
  std::string node_id;
  std::string http;     // HOST:PORT
  std::string cluster;  // HOST:PORT
  std::string state;    // joining, up, leaving, down
};

struct cluster_info {
  std::string node_id;  // this node
  std::uint64_t epoch = 0;
  std::vector<member_info> members;
};

template <class T>
using reply = std::function<void(T)>;

class quota_service {
 public:
  virtual ~quota_service() = default;

  /// Replaces a client's definitions (validated and sorted by the caller);
  /// usage already in the ledger counts against the new windows.
  virtual void set_quotas(std::string client_id, std::vector<domain::definition> defs,
                          reply<client_result> done) = 0;
  virtual void get_quotas(std::string client_id, reply<client_result> done) = 0;
  /// Forgets definitions, windows, ledger and idempotency records.
  virtual void delete_client(std::string client_id, reply<client_result> done) = 0;

  virtual void debit(debit_request req, reply<debit_result> done) = 0;
  /// Each item judged like a single debit; results in request order.
  virtual void debit_batch(std::vector<debit_request> reqs,
                           reply<std::vector<debit_result>> done) = 0;

  virtual void usage(usage_query q, reply<usage_result> done) = 0;
  /// Deletes ledger entries with from <= time <= to and recomputes windows.
  virtual void delete_usage(std::string client_id, std::optional<std::int64_t> from,
                            std::optional<std::int64_t> to, reply<client_result> done) = 0;
  /// Adds records at their own times, once per import id; recomputes windows.
  virtual void import_usage(std::string client_id, std::string import_id,
                            std::vector<usage_record> records, reply<client_result> done) = 0;

  // --- the node itself --------------------------------------------------
  virtual bool ready() const = 0;
  virtual std::string node_id() const = 0;
  /// Removes a member that is down for good (SPEC §7): its clients then
  /// belong to the others, starting from nothing. ok; unknown_client: no
  /// such member; conflict: the member is not down (a running node leaves
  /// with SIGTERM); unavailable: no coordinator answered.
  virtual void remove_member(std::string node_id, reply<outcome> done) = 0;

  /// Starts this node's graceful leave, as SIGTERM does: it hands its
  /// clients on, then the process exits 0. Returns at once.
  virtual void leave_cluster() = 0;

  /// This node's view of its cluster (GET /v1/cluster).
  virtual cluster_info cluster() const = 0;
  /// Appends the node's own Prometheus lines (actors, storage, cluster).
  virtual void append_metrics(std::string& out) const = 0;
};

} // namespace quotad::service
