// The RocksDB store, against a real database in a scratch directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "storage/database.hpp"

namespace quotad::storage {
namespace {

using namespace std::string_literals;
using ledger = std::map<std::int64_t, micro_credits>;

domain::anchor anchor_in(const char* zone, std::int64_t epoch) {
  const auto* z = domain::find_zone(zone);
  if (!z) throw std::runtime_error(std::string("no zone ") + zone);
  return domain::anchor::make(domain::from_epoch(epoch), z);
}

class storage_database : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "quotad-storage-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    open();
  }

  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void open() {
    options o;
    o.dir = dir_;
    o.now = [this] { return clock_.load(); };
    std::string error;
    db_ = database::open(o, error);
    ASSERT_TRUE(db_) << error;
  }

  void reopen() {
    db_.reset();
    open();
  }

  /// Commits one mutation and waits for it; returns what `done` got.
  bool apply(mutation m) {
    std::promise<bool> result;
    db_->commit(std::move(m), [&](bool ok) { result.set_value(ok); });
    return result.get_future().get();
  }

  ledger entries(std::string_view id, std::int64_t from = INT64_MIN, std::int64_t to = INT64_MAX) {
    ledger out;
    db_->ledger_scan(id, from, to, [&](std::int64_t at, micro_credits c) {
      EXPECT_TRUE(out.emplace(at, c).second) << "time visited twice: " << at;
    });
    return out;
  }

  void add(std::string_view id, std::int64_t at, micro_credits c) {
    mutation m(id);
    m.add_usage(at, c);
    ASSERT_TRUE(apply(std::move(m)));
  }

  std::string dir_;
  std::atomic<std::int64_t> clock_{1'000'000};
  std::unique_ptr<database> db_;
};

// --- definitions and windows ---------------------------------------------

TEST_F(storage_database, definitions_and_windows_round_trip_with_zones) {
  std::vector<domain::definition> defs{
    {domain::duration::second, 0, anchor_in("UTC", 0)},
    {domain::duration::day, 500'000'000, anchor_in("Europe/Berlin", 1'640'991'600)},  // 2022-01-01 00:00 local
    {domain::duration::month, domain::unlimited, anchor_in("America/New_York", -86'400 * 365)},
  };
  domain::quota_set qs;
  const domain::instant now = domain::from_epoch(1'800'000'000);
  qs.assign(defs, now);
  qs.set_used(0, 0);
  qs.set_used(1, 12'500'000);
  qs.set_used(2, 7);

  mutation m("client-1");
  m.put_definitions(defs);
  m.put_windows(qs, 1'799'222'400);
  ASSERT_TRUE(apply(std::move(m)));

  auto c = db_->load_client("client-1");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->definitions.size(), 3u);
  for (std::size_t i = 0; i < defs.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(c->definitions[i].dur, defs[i].dur);
    EXPECT_EQ(c->definitions[i].limit, defs[i].limit);
    EXPECT_EQ(c->definitions[i].start.at, defs[i].start.at);
    EXPECT_EQ(c->definitions[i].start.zone, defs[i].start.zone);
    EXPECT_EQ(c->definitions[i].start.local, defs[i].start.local);
  }
  EXPECT_EQ(c->definitions[1].start.zone->name(), "Europe/Berlin");
  ASSERT_EQ(c->windows.size(), 3u);
  for (std::size_t i = 0; i < defs.size(); ++i) EXPECT_EQ(c->windows[i], qs.quotas()[i].current) << i;
  EXPECT_EQ(c->used, (std::vector<micro_credits>{0, 12'500'000, 7}));
  EXPECT_EQ(c->rolled_until, 1'799'222'400);

  // Replacing the definitions replaces them entirely.
  mutation again("client-1");
  again.put_definitions({defs[2]});
  ASSERT_TRUE(apply(std::move(again)));
  c = db_->load_client("client-1");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->definitions.size(), 1u);
  EXPECT_EQ(c->definitions[0].dur, domain::duration::month);
  // Stored windows no longer match the definitions: none are returned.
  EXPECT_TRUE(c->windows.empty());
  EXPECT_TRUE(c->used.empty());
  EXPECT_EQ(c->rolled_until, 1'799'222'400);
}

TEST_F(storage_database, unknown_empty_and_window_less_clients) {
  EXPECT_EQ(db_->load_client("nobody"), std::nullopt);

  mutation empty_list("unlimited");
  empty_list.put_definitions({});
  ASSERT_TRUE(apply(std::move(empty_list)));
  auto c = db_->load_client("unlimited");
  ASSERT_TRUE(c);  // known, with no quotas
  EXPECT_TRUE(c->definitions.empty());
  EXPECT_TRUE(c->windows.empty());
  EXPECT_EQ(c->rolled_until, 0);

  // Windows alone do not make a client known.
  domain::quota_set qs;
  mutation windows_only("ghost");
  windows_only.put_windows(qs, 0);
  ASSERT_TRUE(apply(std::move(windows_only)));
  EXPECT_EQ(db_->load_client("ghost"), std::nullopt);
}

// --- ledger ----------------------------------------------------------------

TEST_F(storage_database, ledger_merges_and_totals_with_inclusive_bounds) {
  mutation m("c");
  m.add_usage(10, 1);
  m.add_usage(20, 2'000'000);
  m.add_usage(20, 500'000);  // same second: merged
  m.add_usage(30, 4);
  ASSERT_TRUE(apply(std::move(m)));
  add("c", 20, 100'000);  // merged across commits

  EXPECT_EQ(entries("c"), (ledger{{10, 1}, {20, 2'600'000}, {30, 4}}));
  EXPECT_EQ(db_->ledger_total("c", 10, 30), 2'600'005);
  EXPECT_EQ(db_->ledger_total("c", 10, 10), 1);
  EXPECT_EQ(db_->ledger_total("c", 11, 29), 2'600'000);
  EXPECT_EQ(db_->ledger_total("c", 20, 30), 2'600'004);
  EXPECT_EQ(db_->ledger_total("c", 31, 100), 0);
  EXPECT_EQ(db_->ledger_total("c", 0, 9), 0);
  EXPECT_EQ(db_->ledger_total("c", 30, 10), 0);  // empty range
  EXPECT_EQ(db_->ledger_total("c", INT64_MIN, INT64_MAX), 2'600'005);
  EXPECT_EQ(entries("c", 11, 30), (ledger{{20, 2'600'000}, {30, 4}}));
}

TEST_F(storage_database, ledger_orders_negative_times_and_extremes) {
  for (std::int64_t t : {INT64_MAX, std::int64_t{5}, std::int64_t{0}, std::int64_t{-1}, std::int64_t{-900},
                         INT64_MIN})
    add("c", t, 1);
  std::vector<std::int64_t> order;
  db_->ledger_scan("c", INT64_MIN, INT64_MAX, [&](std::int64_t at, micro_credits) { order.push_back(at); });
  EXPECT_EQ(order, (std::vector<std::int64_t>{INT64_MIN, -900, -1, 0, 5, INT64_MAX}));
  EXPECT_EQ(db_->ledger_total("c", -900, -1), 2);
  EXPECT_EQ(db_->ledger_total("c", -899, 0), 2);
  EXPECT_EQ(db_->ledger_total("c", INT64_MAX, INT64_MAX), 1);
  EXPECT_EQ(db_->ledger_total("c", INT64_MIN, INT64_MIN), 1);
  EXPECT_EQ(db_->ledger_total("c", INT64_MIN, INT64_MAX), 6);
}

TEST_F(storage_database, ledger_saturates_instead_of_overflowing) {
  add("c", 1, INT64_MAX - 10);
  add("c", 1, 100);  // the merge saturates
  add("c", 2, 5);
  EXPECT_EQ(entries("c"), (ledger{{1, INT64_MAX}, {2, 5}}));
  EXPECT_EQ(db_->ledger_total("c", 1, 2), INT64_MAX);  // the sum saturates
  EXPECT_EQ(db_->ledger_total("c", 2, 2), 5);
}

TEST_F(storage_database, clients_whose_ids_prefix_each_other_never_mix) {
  // Plain concatenation would make ("a", key "bc") and ("ab", key "c") the same key.
  const std::vector<std::string> ids{"a", "ab", "a\0"s, "\xff"s};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    mutation m(ids[i]);
    m.put_definitions({{domain::duration::day, static_cast<micro_credits>(i), anchor_in("UTC", 0)}});
    m.add_usage(100, static_cast<micro_credits>(1) << i);
    ASSERT_TRUE(apply(std::move(m)));
  }
  mutation a("a");
  a.put_answer("bc", {1, 1, 1, INT64_MAX});
  a.put_import("bc", 1);
  ASSERT_TRUE(apply(std::move(a)));
  mutation ab("ab");
  ab.put_answer("c", {2, 2, 2, INT64_MAX});
  ASSERT_TRUE(apply(std::move(ab)));

  for (std::size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(entries(ids[i]), (ledger{{100, static_cast<micro_credits>(1) << i}}));
    auto c = db_->load_client(ids[i]);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->definitions.at(0).limit, static_cast<micro_credits>(i));
  }
  EXPECT_EQ(db_->find_answer("a", "bc", 0)->credits, 1);
  EXPECT_EQ(db_->find_answer("ab", "c", 0)->credits, 2);
  EXPECT_EQ(db_->find_answer("a", "b", 0), std::nullopt);
  EXPECT_EQ(db_->find_answer("ab", "bc", 0), std::nullopt);
  EXPECT_TRUE(db_->import_applied("a", "bc"));
  EXPECT_FALSE(db_->import_applied("ab", "c"));

  mutation forget("a");
  forget.delete_client();
  ASSERT_TRUE(apply(std::move(forget)));
  EXPECT_EQ(db_->load_client("a"), std::nullopt);
  EXPECT_TRUE(entries("a").empty());
  for (std::size_t i = 1; i < ids.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(db_->load_client(ids[i]));
    EXPECT_EQ(db_->ledger_total(ids[i], INT64_MIN, INT64_MAX), static_cast<micro_credits>(1) << i);
  }
  EXPECT_EQ(db_->find_answer("ab", "c", 0)->credits, 2);
}

TEST_F(storage_database, delete_usage_removes_exactly_the_inclusive_range) {
  mutation m("c");
  for (std::int64_t t = 8; t <= 22; ++t) m.add_usage(t, t);
  ASSERT_TRUE(apply(std::move(m)));
  add("other", 15, 1);

  mutation del("c");
  del.delete_usage(10, 20);
  ASSERT_TRUE(apply(std::move(del)));
  EXPECT_EQ(entries("c"), (ledger{{8, 8}, {9, 9}, {21, 21}, {22, 22}}));
  EXPECT_EQ(entries("other"), (ledger{{15, 1}}));

  mutation reversed("c");  // from > to deletes nothing
  reversed.delete_usage(22, 8);
  EXPECT_TRUE(reversed.empty());
  ASSERT_TRUE(apply(std::move(reversed)));
  EXPECT_EQ(entries("c").size(), 4u);

  mutation single("c");
  single.delete_usage(21, 21);
  ASSERT_TRUE(apply(std::move(single)));
  EXPECT_EQ(entries("c"), (ledger{{8, 8}, {9, 9}, {22, 22}}));

  // A delete followed by an add in one mutation: the add survives.
  mutation redo("c");
  redo.delete_usage(INT64_MIN, INT64_MAX);
  redo.add_usage(9, 3);
  ASSERT_TRUE(apply(std::move(redo)));
  EXPECT_EQ(entries("c"), (ledger{{9, 3}}));
  EXPECT_EQ(entries("other"), (ledger{{15, 1}}));
}

TEST_F(storage_database, delete_client_removes_everything_of_that_client_only) {
  for (const char* id : {"x", "y"}) {
    mutation m(id);
    std::vector<domain::definition> defs{{domain::duration::hour, 10, anchor_in("UTC", 0)}};
    domain::quota_set qs;
    qs.assign(defs, domain::from_epoch(5000));
    m.put_definitions(defs);
    m.put_windows(qs, 0);
    m.add_usage(-5, 1);
    m.add_usage(5000, 2);
    m.put_answer("k", {1, 2, 3, INT64_MAX});
    m.put_import("i", 7);
    ASSERT_TRUE(apply(std::move(m)));
  }
  mutation forget("x");
  forget.delete_client();
  ASSERT_TRUE(apply(std::move(forget)));

  EXPECT_EQ(db_->load_client("x"), std::nullopt);
  EXPECT_TRUE(entries("x").empty());
  EXPECT_EQ(db_->find_answer("x", "k", 0), std::nullopt);
  EXPECT_FALSE(db_->import_applied("x", "i"));

  auto y = db_->load_client("y");
  ASSERT_TRUE(y);
  EXPECT_EQ(y->windows.size(), 1u);
  EXPECT_EQ(entries("y"), (ledger{{-5, 1}, {5000, 2}}));
  EXPECT_EQ(db_->find_answer("y", "k", 0)->reset, 3);
  EXPECT_TRUE(db_->import_applied("y", "i"));

  // Forgotten and set up again in one mutation: only the new state exists.
  mutation fresh("y");
  fresh.delete_client();
  fresh.put_definitions({});
  fresh.add_usage(1, 9);
  ASSERT_TRUE(apply(std::move(fresh)));
  y = db_->load_client("y");
  ASSERT_TRUE(y);
  EXPECT_TRUE(y->definitions.empty());
  EXPECT_TRUE(y->windows.empty());
  EXPECT_EQ(entries("y"), (ledger{{1, 9}}));
  EXPECT_EQ(db_->find_answer("y", "k", 0), std::nullopt);
}

// --- idempotency and imports ----------------------------------------------

TEST_F(storage_database, answers_are_found_until_they_expire) {
  mutation m("c");
  m.put_answer("key-1", {5'000'000, 487'500'000, 1'700'003'600, 1'700'086'400});
  m.put_answer("\0binary\xff"s, {1, -1, 2, 3});
  ASSERT_TRUE(apply(std::move(m)));

  auto a = db_->find_answer("c", "key-1", 1'700'086'399);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->credits, 5'000'000);
  EXPECT_EQ(a->remaining, 487'500'000);
  EXPECT_EQ(a->reset, 1'700'003'600);
  EXPECT_EQ(a->expires, 1'700'086'400);
  EXPECT_EQ(db_->find_answer("c", "key-1", 1'700'086'400), std::nullopt);  // expires <= now
  EXPECT_EQ(db_->find_answer("c", "key-2", 0), std::nullopt);
  EXPECT_EQ(db_->find_answer("c", "key-", 0), std::nullopt);
  EXPECT_EQ(db_->find_answer("c", "\0binary\xff"s, 2)->remaining, -1);
  EXPECT_EQ(db_->find_answer("c", "\0binary"s, 2), std::nullopt);
}

TEST_F(storage_database, compaction_drops_answers_expired_by_the_injected_clock) {
  mutation m("c");
  m.put_answer("old", {1, 1, 1, 2'000});
  m.put_answer("edge", {2, 2, 2, 3'000});
  m.put_answer("new", {3, 3, 3, 3'001});
  ASSERT_TRUE(apply(std::move(m)));
  // Asked with an early `now`, all three are still there...
  EXPECT_TRUE(db_->find_answer("c", "old", 0));
  clock_ = 3'000;  // ...until the node's clock passes their expiry and compaction runs.
  db_->compact();
  EXPECT_EQ(db_->find_answer("c", "old", 0), std::nullopt);
  EXPECT_EQ(db_->find_answer("c", "edge", 0), std::nullopt);
  ASSERT_TRUE(db_->find_answer("c", "new", 0));
  EXPECT_EQ(db_->find_answer("c", "new", 0)->credits, 3);
}

TEST_F(storage_database, imports_are_remembered_per_client_and_id) {
  EXPECT_FALSE(db_->import_applied("c", "batch-1"));
  mutation m("c");
  m.put_import("batch-1", 1'700'000'000);
  m.add_usage(100, 5);
  ASSERT_TRUE(apply(std::move(m)));
  EXPECT_TRUE(db_->import_applied("c", "batch-1"));
  EXPECT_FALSE(db_->import_applied("c", "batch-2"));
  EXPECT_FALSE(db_->import_applied("c", "batch-"));
  EXPECT_FALSE(db_->import_applied("d", "batch-1"));
}

// --- the write path ----------------------------------------------------------

TEST_F(storage_database, commits_apply_and_complete_in_submission_order) {
  std::vector<int> done_order;  // only the writer thread appends
  std::vector<bool> results;
  constexpr int n = 200;
  for (int i = 0; i < n; ++i) {
    mutation m("c");
    m.put_answer("k", {i, 0, 0, INT64_MAX});
    if (i % 2 == 0) m.delete_usage(INT64_MIN, INT64_MAX);
    m.add_usage(1, 1);
    db_->commit(std::move(m), [&, i](bool ok) {
      done_order.push_back(i);
      results.push_back(ok);
    });
  }
  db_->wait_committed();
  ASSERT_EQ(done_order.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(done_order[i], i);
  EXPECT_EQ(std::count(results.begin(), results.end(), true), n);
  EXPECT_EQ(db_->find_answer("c", "k", 0)->credits, n - 1);  // the last put wins
  // The last delete was by mutation 198; 198 and 199 each added 1 after it.
  EXPECT_EQ(db_->ledger_total("c", 1, 1), 2);
}

TEST_F(storage_database, empty_mutations_and_no_callback_are_fine) {
  mutation nothing("c");
  EXPECT_TRUE(nothing.empty());
  EXPECT_EQ(nothing.client_id(), "c");
  EXPECT_TRUE(apply(std::move(nothing)));
  mutation m("c");
  m.add_usage(1, 1);
  EXPECT_FALSE(m.empty());
  db_->commit(std::move(m), nullptr);
  db_->wait_committed();
  EXPECT_EQ(db_->ledger_total("c", 1, 1), 1);
  EXPECT_THROW(mutation(std::string(65'536, 'x')), std::invalid_argument);
}

TEST_F(storage_database, many_commits_from_several_threads_all_land) {
  constexpr int threads = 4;
  constexpr int per_thread = 500;
  std::atomic<int> ok_count{0};
  std::atomic<int> done_count{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < per_thread; ++i) {
        mutation m("shared");
        m.add_usage(i % 7, 1'000'000);  // contended seconds: merges must not lose any
        mutation own("own-" + std::to_string(w));
        own.add_usage(i, 1);
        db_->commit(std::move(m), [&](bool ok) {
          ++done_count;
          if (ok) ++ok_count;
        });
        db_->commit(std::move(own), [&](bool ok) {
          ++done_count;
          if (ok) ++ok_count;
        });
      }
    });
  }
  for (auto& t : workers) t.join();
  db_->wait_committed();
  EXPECT_EQ(done_count.load(), 2 * threads * per_thread);
  EXPECT_EQ(ok_count.load(), 2 * threads * per_thread);
  EXPECT_EQ(db_->ledger_total("shared", INT64_MIN, INT64_MAX), std::int64_t{threads} * per_thread * 1'000'000);
  EXPECT_EQ(entries("shared").size(), 7u);
  for (int w = 0; w < threads; ++w) {
    EXPECT_EQ(db_->ledger_total("own-" + std::to_string(w), 0, per_thread - 1), per_thread);
  }
  auto s = db_->stats();
  EXPECT_EQ(s.mutations, 2u * threads * per_thread);
  EXPECT_GE(s.commits, 1u);
  EXPECT_LE(s.commits, 2u * threads * per_thread);
  EXPECT_EQ(s.failed_commits, 0u);
  EXPECT_EQ(s.queue_depth, 0u);
}

TEST_F(storage_database, wait_committed_returns_only_after_earlier_done_callbacks) {
  db_->wait_committed();  // nothing queued: returns at once

  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::atomic<bool> first_done{false};
  mutation m("c");
  m.add_usage(1, 1);
  db_->commit(std::move(m), [&](bool) {
    opened.wait();  // holds the writer inside this callback
    first_done = true;
  });

  std::atomic<bool> seen_done_after_wait{false};
  std::thread waiter([&] {
    db_->wait_committed();
    seen_done_after_wait = first_done.load();
  });
  gate.set_value();
  waiter.join();
  EXPECT_TRUE(seen_done_after_wait.load());
  EXPECT_EQ(db_->ledger_total("c", 1, 1), 1);
}

TEST_F(storage_database, closing_drains_the_queue) {
  std::atomic<int> done{0};
  for (int i = 0; i < 1000; ++i) {
    mutation m("c");
    m.add_usage(i, 1);
    db_->commit(std::move(m), [&](bool ok) { done += ok ? 1 : 1000'000; });
  }
  db_.reset();  // no wait: the destructor writes everything queued
  EXPECT_EQ(done.load(), 1000);
  open();
  EXPECT_EQ(db_->ledger_total("c", 0, 999), 1000);
}

TEST_F(storage_database, everything_survives_a_reopen) {
  std::vector<domain::definition> defs{{domain::duration::week, 70'000'000, anchor_in("Asia/Kolkata", 1'000)}};
  domain::quota_set qs;
  qs.assign(defs, domain::from_epoch(2'000'000));
  qs.set_used(0, 42);
  mutation m("persist");
  m.put_definitions(defs);
  m.put_windows(qs, 900);
  m.add_usage(-3, 4);
  m.add_usage(1'000, 5);
  m.put_answer("k", {6, 7, 8, 9'999'999});
  m.put_import("imp", 10);
  ASSERT_TRUE(apply(std::move(m)));
  ASSERT_TRUE(db_->put_meta("node_id", "node-7"));

  reopen();
  auto c = db_->load_client("persist");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->definitions.size(), 1u);
  EXPECT_EQ(c->definitions[0].start.zone->name(), "Asia/Kolkata");
  EXPECT_EQ(c->definitions[0].limit, 70'000'000);
  EXPECT_EQ(c->windows.at(0), qs.quotas()[0].current);
  EXPECT_EQ(c->used, (std::vector<micro_credits>{42}));
  EXPECT_EQ(c->rolled_until, 900);
  EXPECT_EQ(entries("persist"), (ledger{{-3, 4}, {1'000, 5}}));
  EXPECT_EQ(db_->find_answer("persist", "k", 0)->credits, 6);
  EXPECT_TRUE(db_->import_applied("persist", "imp"));
  EXPECT_EQ(db_->get_meta("node_id"), "node-7");

  // Merges keep working on entries written before the reopen.
  add("persist", 1'000, 1);
  EXPECT_EQ(db_->ledger_total("persist", 1'000, 1'000), 6);
}

TEST_F(storage_database, a_second_open_of_the_same_directory_fails_with_a_message) {
  options o;
  o.dir = dir_;
  std::string error;
  EXPECT_EQ(database::open(o, error), nullptr);
  EXPECT_NE(error.find(dir_), std::string::npos) << error;
}

// --- ledger rollup -----------------------------------------------------------

TEST_F(storage_database, rollup_keeps_every_bucket_total_and_reduces_entries) {
  const ledger before_rollup{
    {-1800, 1},                          // bucket [-1800, -900): a single entry at its start
    {-899, 20}, {-1, 10},                // bucket [-900, 0)
    {0, 7}, {1, 1}, {899, 2},            // bucket [0, 900), with an entry at its start
    {900, 5},                            // bucket [900, 1800): only its start
    {1801, 3}, {2000, 4}, {2699, 6},     // bucket [1800, 2700), none at its start
    {2700, 100}, {2701, 200},            // at/after `before`: untouched
  };
  mutation m("c");
  for (auto [t, c] : before_rollup) m.add_usage(t, c);
  add("other", 1, 1000);
  ASSERT_TRUE(apply(std::move(m)));

  mutation plan("c");
  ASSERT_TRUE(db_->plan_rollup("c", -1800, 2700, plan));
  ASSERT_TRUE(apply(std::move(plan)));

  const ledger after{{-1800, 1}, {-900, 30}, {0, 10}, {900, 5}, {1800, 13}, {2700, 100}, {2701, 200}};
  EXPECT_EQ(entries("c"), after);
  EXPECT_EQ(entries("other"), (ledger{{1, 1000}}));
  // Every bucket-aligned range has the same total as before.
  for (std::int64_t from = -1800; from <= 2700; from += 900)
    for (std::int64_t to = from; to <= 3600; to += 900) {
      micro_credits expected = 0;
      for (auto [t, c] : before_rollup)
        if (t >= from && t <= to - 1) expected += c;
      EXPECT_EQ(db_->ledger_total("c", from, to - 1), expected) << from << ".." << to;
    }

  mutation nothing("c");
  EXPECT_FALSE(db_->plan_rollup("c", -1800, 2700, nothing));
  EXPECT_TRUE(nothing.empty());
}

TEST_F(storage_database, rollup_floors_unaligned_bounds_to_whole_buckets) {
  for (std::int64_t t : {900, 950, 1799, 1800, 1850}) add("c", t, 1);
  mutation plan("c");
  ASSERT_TRUE(db_->plan_rollup("c", 1000, 1900, plan));  // rolls [900, 1800)
  ASSERT_TRUE(apply(std::move(plan)));
  EXPECT_EQ(entries("c"), (ledger{{900, 3}, {1800, 1}, {1850, 1}}));
}

TEST_F(storage_database, rollup_edge_cases_plan_nothing) {
  add("c", 10, 1);
  add("c", 20, 1);
  mutation m("c");
  EXPECT_FALSE(db_->plan_rollup("c", 900, 900, m));   // empty range
  EXPECT_FALSE(db_->plan_rollup("c", 900, 0, m));     // reversed range
  EXPECT_FALSE(db_->plan_rollup("c", 0, 899, m));     // `before` floors to 0
  EXPECT_FALSE(db_->plan_rollup("d", 0, 900, m));     // another client's mutation
  EXPECT_FALSE(db_->plan_rollup("d", 0, 900, *std::make_unique<mutation>("d")));  // no entries
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(entries("c"), (ledger{{10, 1}, {20, 1}}));

  // Entries that cancel out leave no bucket entry behind.
  add("z", 5, 3);
  add("z", 6, -3);
  mutation z("z");
  ASSERT_TRUE(db_->plan_rollup("z", 0, 900, z));
  ASSERT_TRUE(apply(std::move(z)));
  EXPECT_TRUE(entries("z").empty());
}

// --- metadata and statistics -------------------------------------------------

TEST_F(storage_database, meta_values_are_stored_and_overwritten) {
  EXPECT_EQ(db_->get_meta("node_id"), std::nullopt);
  EXPECT_TRUE(db_->put_meta("node_id", "n1"));
  EXPECT_TRUE(db_->put_meta("schema", "\0\x01"s));
  EXPECT_EQ(db_->get_meta("node_id"), "n1");
  EXPECT_TRUE(db_->put_meta("node_id", "n2"));
  EXPECT_EQ(db_->get_meta("node_id"), "n2");
  EXPECT_EQ(db_->get_meta("schema"), "\0\x01"s);
  EXPECT_EQ(db_->get_meta("node"), std::nullopt);
  // Meta keys live apart from client data.
  EXPECT_EQ(db_->load_client("node_id"), std::nullopt);
}

TEST_F(storage_database, stats_count_commits_and_live_data) {
  auto s = db_->stats();
  EXPECT_EQ(s.commits, 0u);
  EXPECT_EQ(s.mutations, 0u);
  EXPECT_EQ(s.live_data_bytes, 0u);
  for (int i = 0; i < 3; ++i) add("c", i, 1);
  s = db_->stats();
  EXPECT_EQ(s.commits, 3u);  // one at a time: one cycle each
  EXPECT_EQ(s.mutations, 3u);
  EXPECT_EQ(s.failed_commits, 0u);
  db_->compact();  // flushed into table files: now counted
  EXPECT_GT(db_->stats().live_data_bytes, 0u);
}

// --- moving clients between nodes ---------------------------------------------

TEST_F(storage_database, client_ids_list_every_client_once) {
  EXPECT_TRUE(db_->client_ids().empty());
  mutation a("a");
  a.put_definitions({});
  a.add_usage(1, 1);
  a.add_usage(2, 1);
  ASSERT_TRUE(apply(std::move(a)));
  add("ab", 5, 1);  // history only, no definitions
  mutation c("c");
  c.put_definitions({});
  ASSERT_TRUE(apply(std::move(c)));
  EXPECT_EQ(db_->client_ids(), (std::vector<std::string>{"a", "ab", "c"}));
}

TEST_F(storage_database, export_holds_everything_of_one_client) {
  std::vector<domain::definition> defs{{domain::duration::day, 500, anchor_in("Europe/Berlin", 0)}};
  domain::quota_set qs;
  qs.assign(defs, domain::from_epoch(5000));
  mutation m("x");
  m.put_definitions(defs);
  m.put_windows(qs, 900);
  m.add_usage(-5, 1);
  m.add_usage(5000, 2);
  m.put_answer("k", {1, 2, 3, INT64_MAX});
  m.put_import("i", 7);
  ASSERT_TRUE(apply(std::move(m)));
  add("xy", 1, 1);

  EXPECT_EQ(db_->first_usage("x"), std::optional<std::int64_t>{-5});
  EXPECT_EQ(db_->first_usage("nobody"), std::nullopt);
  auto e = db_->export_client("x");
  ASSERT_TRUE(e.client);
  EXPECT_EQ(e.client->definitions.size(), 1u);
  EXPECT_EQ(e.client->rolled_until, 900);
  EXPECT_EQ(e.ledger, (std::vector<std::pair<std::int64_t, micro_credits>>{{-5, 1}, {5000, 2}}));
  ASSERT_EQ(e.answers.size(), 1u);
  EXPECT_EQ(e.answers[0].first, "k");
  EXPECT_EQ(e.answers[0].second.reset, 3);
  EXPECT_EQ(e.imports, (std::vector<std::pair<std::string, std::int64_t>>{{"i", 7}}));
  EXPECT_FALSE(e.empty());
  EXPECT_TRUE(db_->export_client("nobody").empty());
}

} // namespace
} // namespace quotad::storage
