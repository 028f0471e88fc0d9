// quotad's RocksDB store: column families, the single write path, reads.
//
// Every change is a `mutation`, written atomically as one WriteBatch. Either
// through `database::commit`, which a single writer thread turns into one
// RocksDB write per cycle (group commit; the mutations of one cycle are
// applied in submission order; `done(ok)` runs on the writer thread once its
// write reached the WAL), or through `write_now` on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/quota.hpp"

namespace quotad::storage {

using domain::micro_credits;

/// Column families, in the fixed order they are opened in.
enum class column : std::uint8_t {
  meta,         // node id, schema version
  definitions,  // client id → quota definitions
  windows,      // client id → current windows and their used credits
  ledger,       // client id + epoch second → credits (merge: add)
  idempotency,  // client id + key → the answer of a successful debit
  imports,      // client id + import id → when it was applied
};

struct options {
  std::string dir = "./data";
  /// fsync the WAL on every write cycle. Off: a write survives a process
  /// crash (kill -9) but not a power loss.
  bool sync_writes = false;
  /// The node's clock (seconds since the epoch), for expiring records
  /// during compaction. Defaults to the system clock.
  std::function<std::int64_t()> now;
};

/// What was stored about a client: its definitions and current windows.
struct stored_client {
  std::vector<domain::definition> definitions;  // sorted by duration
  /// Parallel to `definitions`: the window last persisted and its used credits.
  std::vector<domain::window> windows;
  std::vector<micro_credits> used;
  /// Ledger entries before this instant have been rolled up into buckets.
  std::int64_t rolled_until = 0;
};

/// The answer of a successful debit, replayed for a repeated idempotency key.
struct stored_answer {
  micro_credits credits = 0;
  micro_credits remaining = 0;  // -1 when unlimited
  std::int64_t reset = 0;       // epoch seconds
  std::int64_t expires = 0;     // epoch seconds
};

/// Everything stored about a client, as it moves to another node.
struct client_export {
  std::optional<stored_client> client;
  std::vector<std::pair<std::int64_t, micro_credits>> ledger;
  std::vector<std::pair<std::string, stored_answer>> answers;
  std::vector<std::pair<std::string, std::int64_t>> imports;  // import id → applied at

  bool empty() const { return !client && ledger.empty() && answers.empty() && imports.empty(); }
};

/// Ledger resolution: entries older than the exact horizon are rolled up
/// into buckets of this many seconds (see docs/storage.md).
inline constexpr std::int64_t ledger_bucket_seconds = 900;

/// One client's atomic change. Build it, then hand it to `database::commit`.
class mutation {
 public:
  explicit mutation(std::string_view client_id);
  mutation(mutation&&) noexcept;
  mutation& operator=(mutation&&) noexcept;
  ~mutation();

  void put_definitions(const std::vector<domain::definition>& defs);
  /// Persists the current windows and used credits of every quota.
  void put_windows(const domain::quota_set& quotas, std::int64_t rolled_until);
  /// Adds credits to the ledger entry of second `at` (a merge: no read).
  void add_usage(std::int64_t at, micro_credits credits);
  /// Removes the ledger entries with from <= time <= to.
  void delete_usage(std::int64_t from, std::int64_t to);
  void put_answer(std::string_view idempotency_key, const stored_answer& answer);
  void put_import(std::string_view import_id, std::int64_t applied_at);
  /// Forgets the client: definitions, windows, ledger, answers, imports.
  void delete_client();

  bool empty() const;
  std::string_view client_id() const;

  struct impl;
  impl& internals() { return *impl_; }

 private:
  std::unique_ptr<impl> impl_;
};

struct database_stats {
  std::uint64_t commits = 0;          // writer cycles
  std::uint64_t mutations = 0;        // mutations committed
  std::uint64_t failed_commits = 0;
  std::uint64_t queue_depth = 0;      // mutations waiting now
  std::uint64_t live_data_bytes = 0;  // RocksDB estimate
};

class database {
 public:
  /// Opens (creating if needed) the store in `opts.dir`. nullptr and a
  /// message in `error` when it cannot be opened.
  static std::unique_ptr<database> open(const options& opts, std::string& error);
  ~database();  // drains the write queue, stops the writer, closes

  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // --- the single write path -------------------------------------------
  void commit(mutation m, std::function<void(bool ok)> done);
  /// Writes one mutation on the calling thread, as one atomic batch: for a
  /// caller that has nothing queued for the same client, this saves the
  /// hand-over to the writer thread. Ordering against queued mutations of
  /// other clients does not matter: they touch other keys.
  bool write_now(mutation m);
  /// Blocks until everything committed before the call has been written.
  void wait_committed();

  // --- reads (any thread; see committed data only) ---------------------
  std::optional<stored_client> load_client(std::string_view client_id) const;
  /// Sum of ledger entries with from <= time <= to.
  micro_credits ledger_total(std::string_view client_id, std::int64_t from, std::int64_t to) const;
  /// Visits ledger entries with from <= time <= to in time order.
  void ledger_scan(std::string_view client_id, std::int64_t from, std::int64_t to,
                   const std::function<void(std::int64_t at, micro_credits credits)>& visit) const;
  std::optional<stored_answer> find_answer(std::string_view client_id, std::string_view key,
                                           std::int64_t now) const;
  bool import_applied(std::string_view client_id, std::string_view import_id) const;

  /// Builds the mutation that rolls ledger entries in [from, before) up
  /// into `ledger_bucket_seconds` buckets (`before` bucket-aligned).
  /// Returns false if there was nothing to roll up.
  /// `from` and `before` are floored to bucket boundaries, so whole buckets
  /// are rolled up. It reads committed data and plans point deletes: call
  /// it only when none of the client's mutations is pending, and commit
  /// `out` (a mutation for the same client) before the next one.
  bool plan_rollup(std::string_view client_id, std::int64_t from, std::int64_t before,
                   mutation& out) const;

  // --- node metadata (synchronous, fsynced) -----------------------------
  std::optional<std::string> get_meta(std::string_view key) const;
  bool put_meta(std::string_view key, std::string_view value);

  // --- moving clients between nodes ---------------------------------------
  /// Every client with definitions or ledger entries on this node.
  std::vector<std::string> client_ids() const;
  /// Everything stored about one client.
  client_export export_client(std::string_view client_id) const;
  /// The time of the client's earliest ledger entry, if any.
  std::optional<std::int64_t> first_usage(std::string_view client_id) const;

  database_stats stats() const;

  /// Compacts every column family now, which also drops expired
  /// idempotency records (for maintenance and tests).
  void compact();

 private:
  database();
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace quotad::storage
