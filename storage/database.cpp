#include "storage/database.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "storage/codec.hpp"
#include "storage/mutation_impl.hpp"

namespace quotad::storage {

namespace {

/// Column family names, indexed by `column`. The order is fixed: the
/// handles are opened in it.
constexpr std::array<const char*, 6> column_names{
  "meta", "definitions", "windows", "ledger", "idempotency", "imports"};

constexpr std::size_t index_of(column c) { return static_cast<std::size_t>(c); }

/// Ledger merge: adds the 8-byte operands, saturating at the int64 limits.
class ledger_add final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    auto add = codec::decode_credits(value.ToStringView());
    if (!add) return false;  // reported as corruption
    std::int64_t sum = *add;
    if (existing) {
      auto old = codec::decode_credits(existing->ToStringView());
      if (!old) return false;
      sum = codec::saturating_add(*old, *add);
    }
    *new_value = codec::encode_credits(sum);
    return true;
  }
  const char* Name() const override { return "quotad.ledger_add"; }
};

/// Drops idempotency records whose `expires` has passed. Also drops values
/// it cannot read: nothing could ever answer from them.
class expired_answers final : public rocksdb::CompactionFilter {
 public:
  explicit expired_answers(std::function<std::int64_t()> now) : now_(std::move(now)) {}

  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    auto answer = codec::decode_answer(value.ToStringView());
    return !answer || answer->expires <= now_();
  }
  const char* Name() const override { return "quotad.expired_answers"; }

 private:
  std::function<std::int64_t()> now_;
};

std::int64_t system_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

/// The start of the bucket holding `t` (floor toward negative infinity).
std::int64_t bucket_start(std::int64_t t) {
  std::int64_t offset = ((t % ledger_bucket_seconds) + ledger_bucket_seconds) % ledger_bucket_seconds;
  std::int64_t start = 0;
  if (__builtin_sub_overflow(t, offset, &start)) return INT64_MIN;  // the partial lowest bucket
  return start;
}

struct pending {
  mutation m;
  std::function<void(bool)> done;
};

} // namespace

struct database::impl {
  options opts;
  // Declared before `db`: RocksDB uses the filter until the db is closed.
  std::unique_ptr<expired_answers> answer_filter;
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, column_names.size()> cfs{};
  rocksdb::WriteOptions write_options;

  // The write queue, shared by `commit` and the writer thread.
  mutable std::mutex mu;
  std::condition_variable work_ready;
  std::condition_variable cycle_done;
  std::vector<pending> queue;
  std::uint64_t enqueued = 0;   // mutations ever queued
  std::uint64_t completed = 0;  // mutations whose `done` has run
  bool stopping = false;
  std::thread writer;

  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> mutations{0};
  std::atomic<std::uint64_t> failed_commits{0};

  rocksdb::ColumnFamilyHandle* cf(column c) const { return cfs[index_of(c)]; }

  void writer_loop();
  rocksdb::Status write_cycle(std::vector<pending>& cycle);
  rocksdb::Status append(rocksdb::WriteBatch& batch, mutation& m);

  ~impl() {
    if (writer.joinable()) {
      {
        std::lock_guard lock(mu);
        stopping = true;
      }
      work_ready.notify_one();
      writer.join();
    }
    if (db) {
      for (auto* h : cfs)
        if (h) db->DestroyColumnFamilyHandle(h);
      if (default_cf) db->DestroyColumnFamilyHandle(default_cf);
      db->Close();
      delete db;
    }
  }
};

// --- open / close ------------------------------------------------------------

database::database() : impl_(std::make_unique<impl>()) {}
database::~database() = default;

std::unique_ptr<database> database::open(const options& opts, std::string& error) {
  std::unique_ptr<database> self(new database());
  impl& d = *self->impl_;
  d.opts = opts;
  if (!d.opts.now) d.opts.now = system_now;
  d.answer_filter = std::make_unique<expired_answers>(d.opts.now);
  d.write_options.sync = opts.sync_writes;  // the WAL stays on either way

  std::error_code ec;
  std::filesystem::create_directories(opts.dir, ec);
  if (ec) {
    error = "cannot create " + opts.dir + ": " + ec.message();
    return nullptr;
  }

  // A small, write-heavy service on two cores: two background jobs, modest
  // memtables, and a WAL cap so that rarely written column families (meta)
  // do not pin old WAL files forever.
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.max_total_wal_size = 64 << 20;
  db_options.keep_log_file_num = 4;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(32 << 20);
  // Point lookups (definitions, answers, imports) mostly ask for keys that
  // may be absent: a Bloom filter saves the disk read.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions base;
  base.write_buffer_size = 16 << 20;
  base.level_compaction_dynamic_level_bytes = true;
  base.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, base);
  for (std::size_t i = 0; i < column_names.size(); ++i) {
    rocksdb::ColumnFamilyOptions cf_options = base;
    if (i == index_of(column::ledger)) cf_options.merge_operator = std::make_shared<ledger_add>();
    if (i == index_of(column::idempotency)) cf_options.compaction_filter = d.answer_filter.get();
    descriptors.emplace_back(column_names[i], cf_options);
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(db_options, opts.dir, descriptors, &handles, &d.db);
  if (!s.ok()) {
    error = "cannot open the store in " + opts.dir + ": " + s.ToString();
    d.db = nullptr;
    return nullptr;
  }
  d.default_cf = handles[0];
  for (std::size_t i = 0; i < column_names.size(); ++i) d.cfs[i] = handles[i + 1];

  d.writer = std::thread([&d] { d.writer_loop(); });
  return self;
}

// --- the single write path ---------------------------------------------------

void database::commit(mutation m, std::function<void(bool ok)> done) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->queue.push_back({std::move(m), std::move(done)});
    ++impl_->enqueued;
  }
  impl_->work_ready.notify_one();
}

void database::wait_committed() {
  std::unique_lock lock(impl_->mu);
  const std::uint64_t target = impl_->enqueued;
  impl_->cycle_done.wait(lock, [&] { return impl_->completed >= target; });
}

void database::impl::writer_loop() {
  std::vector<pending> cycle;
  for (;;) {
    {
      std::unique_lock lock(mu);
      work_ready.wait(lock, [&] { return !queue.empty() || stopping; });
      if (queue.empty()) return;  // stopping, and everything is written
      cycle.swap(queue);
    }
    const bool ok = write_cycle(cycle).ok();
    ++commits;
    if (ok)
      mutations += cycle.size();
    else
      ++failed_commits;
    // Outside the mutex: a `done` may commit again.
    for (auto& p : cycle)
      if (p.done) p.done(ok);
    {
      std::lock_guard lock(mu);
      completed += cycle.size();
    }
    cycle_done.notify_all();
    cycle.clear();
  }
}

rocksdb::Status database::impl::append(rocksdb::WriteBatch& batch, mutation& m) {
  for (const op& o : m.internals().ops) {
    rocksdb::Status s;
    switch (o.k) {
      case op::kind::put: s = batch.Put(cf(o.col), o.key, o.value); break;
      case op::kind::merge: s = batch.Merge(cf(o.col), o.key, o.value); break;
      case op::kind::erase: s = batch.Delete(cf(o.col), o.key); break;
      case op::kind::erase_range: s = batch.DeleteRange(cf(o.col), o.key, o.value); break;
    }
    if (!s.ok()) return s;
  }
  return rocksdb::Status::OK();
}

rocksdb::Status database::impl::write_cycle(std::vector<pending>& cycle) {
  rocksdb::WriteBatch batch;
  for (auto& p : cycle)
    if (auto s = append(batch, p.m); !s.ok()) return s;
  if (batch.Count() == 0) return rocksdb::Status::OK();
  return db->Write(write_options, &batch);
}

bool database::write_now(mutation m) {
  rocksdb::WriteBatch batch;
  auto s = impl_->append(batch, m);
  if (s.ok() && batch.Count() > 0) s = impl_->db->Write(impl_->write_options, &batch);
  ++impl_->commits;
  if (s.ok())
    ++impl_->mutations;
  else
    ++impl_->failed_commits;
  return s.ok();
}

// --- reads -----------------------------------------------------------------

namespace {

std::optional<std::string> get(rocksdb::DB* db, const rocksdb::ReadOptions& ro,
                               rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
  std::string value;
  rocksdb::Status s = db->Get(ro, cf, key, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) throw std::runtime_error("storage read failed: " + s.ToString());
  return value;
}

} // namespace

std::optional<stored_client> database::load_client(std::string_view client_id) const {
  const std::string key = codec::client_prefix(client_id);
  // One snapshot: definitions and windows written together are read together.
  rocksdb::ManagedSnapshot snapshot(impl_->db);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  auto defs_value = get(impl_->db, ro, impl_->cf(column::definitions), key);
  if (!defs_value) return std::nullopt;
  auto defs = codec::decode_definitions(*defs_value);
  if (!defs) throw std::runtime_error("unreadable quota definitions of client " + std::string(client_id));

  stored_client client;
  client.definitions = std::move(*defs);
  if (auto windows_value = get(impl_->db, ro, impl_->cf(column::windows), key)) {
    auto w = codec::decode_windows(*windows_value);
    if (!w) throw std::runtime_error("unreadable windows of client " + std::string(client_id));
    client.rolled_until = w->rolled_until;
    // Windows that do not match the definitions are of no use: the caller
    // recomputes them (windows and used stay empty).
    if (w->windows.size() == client.definitions.size()) {
      client.windows = std::move(w->windows);
      client.used = std::move(w->used);
    }
  }
  return client;
}

void database::ledger_scan(std::string_view client_id, std::int64_t from, std::int64_t to,
                           const std::function<void(std::int64_t, micro_credits)>& visit) const {
  if (from > to) return;
  const std::string prefix = codec::client_prefix(client_id);
  std::string begin = prefix;
  codec::append_time(begin, from);
  std::string end;
  if (to == INT64_MAX) {
    end = codec::prefix_end(prefix);
  } else {
    end = prefix;
    codec::append_time(end, to + 1);
  }
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf(column::ledger)));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    auto at = codec::ledger_key_time(it->key().ToStringView(), prefix.size());
    auto credits = codec::decode_credits(it->value().ToStringView());
    if (!at || !credits) throw std::runtime_error("unreadable ledger entry of client " + std::string(client_id));
    visit(*at, *credits);
  }
  if (!it->status().ok()) throw std::runtime_error("storage read failed: " + it->status().ToString());
}

micro_credits database::ledger_total(std::string_view client_id, std::int64_t from,
                                     std::int64_t to) const {
  micro_credits total = 0;
  ledger_scan(client_id, from, to,
              [&](std::int64_t, micro_credits c) { total = codec::saturating_add(total, c); });
  return total;
}

std::optional<stored_answer> database::find_answer(std::string_view client_id, std::string_view key,
                                                   std::int64_t now) const {
  auto value = get(impl_->db, {}, impl_->cf(column::idempotency), codec::suffixed_key(client_id, key));
  if (!value) return std::nullopt;
  auto answer = codec::decode_answer(*value);
  if (!answer || answer->expires <= now) return std::nullopt;
  return answer;
}

bool database::import_applied(std::string_view client_id, std::string_view import_id) const {
  return get(impl_->db, {}, impl_->cf(column::imports), codec::suffixed_key(client_id, import_id))
      .has_value();
}

// --- ledger rollup -----------------------------------------------------------

bool database::plan_rollup(std::string_view client_id, std::int64_t from, std::int64_t before,
                           mutation& out) const {
  if (out.client_id() != client_id) return false;
  const std::int64_t first = bucket_start(from);
  const std::int64_t last = bucket_start(before);  // exclusive
  if (first >= last) return false;

  auto& ops = out.internals().ops;
  const std::string& prefix = out.internals().prefix;
  bool planned = false;

  // The entries of the bucket being read; flushed when the next one starts.
  std::int64_t bucket = 0;
  std::vector<std::int64_t> others;  // entries not at the bucket start
  micro_credits others_sum = 0;
  auto flush = [&] {
    if (others.empty()) return;  // nothing, or a single entry at the start
    // The entry at the bucket start (if any) stays; the others are deleted
    // and their sum is merged into it, so it ends up holding the total.
    for (std::int64_t t : others) {
      std::string key = prefix;
      codec::append_time(key, t);
      ops.push_back({op::kind::erase, column::ledger, std::move(key), {}});
    }
    if (others_sum != 0) {
      std::string key = prefix;
      codec::append_time(key, bucket);
      ops.push_back({op::kind::merge, column::ledger, std::move(key), codec::encode_credits(others_sum)});
    }
    planned = true;
    others.clear();
    others_sum = 0;
  };

  ledger_scan(client_id, first, last - 1, [&](std::int64_t at, micro_credits credits) {
    const std::int64_t b = bucket_start(at);
    if (b != bucket) {
      flush();
      bucket = b;
    }
    if (at != bucket) {
      others.push_back(at);
      others_sum = codec::saturating_add(others_sum, credits);
    }
  });
  flush();
  return planned;
}

// --- moving clients between nodes --------------------------------------------

namespace {

/// The client id at the start of a key (2-byte length, then the id).
std::optional<std::string> client_of_key(std::string_view key) {
  if (key.size() < 2) return std::nullopt;
  std::size_t n = (static_cast<std::uint8_t>(key[0]) << 8) | static_cast<std::uint8_t>(key[1]);
  if (key.size() < 2 + n) return std::nullopt;
  return std::string(key.substr(2, n));
}

/// Visits each key of `cf` starting with `prefix`.
template <class Visit>
void scan_prefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
                 Visit visit) {
  const std::string end = codec::prefix_end(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  for (it->Seek(prefix); it->Valid(); it->Next())
    visit(it->key().ToStringView().substr(prefix.size()), it->value().ToStringView());
  if (!it->status().ok()) throw std::runtime_error("storage read failed: " + it->status().ToString());
}

} // namespace

std::vector<std::string> database::client_ids() const {
  std::vector<std::string> ids;
  for (auto c : {column::definitions, column::ledger}) {
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator({}, impl_->cf(c)));
    it->SeekToFirst();
    while (it->Valid()) {
      auto id = client_of_key(it->key().ToStringView());
      if (!id) {
        it->Next();
        continue;
      }
      ids.push_back(*id);
      // Skip the rest of this client's keys.
      it->Seek(codec::prefix_end(codec::client_prefix(*id)));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

client_export database::export_client(std::string_view client_id) const {
  client_export out;
  out.client = load_client(client_id);
  ledger_scan(client_id, INT64_MIN, INT64_MAX,
              [&](std::int64_t at, micro_credits c) { out.ledger.emplace_back(at, c); });
  const std::string prefix = codec::client_prefix(client_id);
  scan_prefix(impl_->db, impl_->cf(column::idempotency), prefix,
              [&](std::string_view key, std::string_view value) {
                if (auto a = codec::decode_answer(value)) out.answers.emplace_back(std::string(key), *a);
              });
  scan_prefix(impl_->db, impl_->cf(column::imports), prefix,
              [&](std::string_view key, std::string_view value) {
                if (auto at = codec::decode_import(value)) out.imports.emplace_back(std::string(key), *at);
              });
  return out;
}

std::optional<std::int64_t> database::first_usage(std::string_view client_id) const {
  const std::string prefix = codec::client_prefix(client_id);
  const std::string end = codec::prefix_end(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf(column::ledger)));
  it->Seek(prefix);
  if (!it->Valid()) return std::nullopt;
  return codec::ledger_key_time(it->key().ToStringView(), prefix.size());
}

// --- metadata and statistics -------------------------------------------------

std::optional<std::string> database::get_meta(std::string_view key) const {
  return get(impl_->db, {}, impl_->cf(column::meta), std::string(key));
}

bool database::put_meta(std::string_view key, std::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return impl_->db->Put(wo, impl_->cf(column::meta), key, value).ok();
}

database_stats database::stats() const {
  database_stats s;
  s.commits = impl_->commits.load();
  s.mutations = impl_->mutations.load();
  s.failed_commits = impl_->failed_commits.load();
  {
    std::lock_guard lock(impl_->mu);
    s.queue_depth = impl_->queue.size();
  }
  for (auto* h : impl_->cfs) {
    std::uint64_t bytes = 0;
    if (impl_->db->GetIntProperty(h, "rocksdb.estimate-live-data-size", &bytes)) s.live_data_bytes += bytes;
  }
  return s;
}

void database::compact() {
  rocksdb::CompactRangeOptions o;
  // Rewrite the bottom level too, so that the filter sees every record.
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : impl_->cfs) impl_->db->CompactRange(o, h, nullptr, nullptr);
}

} // namespace quotad::storage
