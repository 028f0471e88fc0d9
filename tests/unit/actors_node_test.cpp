// The actor layer on a real RocksDB in a scratch directory: one node,
// driven through its service interface from several threads.
#include "actors/node.hpp"

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>

using namespace quotad;

namespace {

domain::micro_credits credits(std::int64_t whole) {
  return whole * domain::micro_per_credit;
}

class node_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "quotad-actors-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    clock_.set(domain::from_epoch(1'796'292'000));  // 2026-12-03T10:00:00Z
    open();
  }

  void TearDown() override {
    close();
    std::filesystem::remove_all(dir_);
  }

  void open(std::chrono::seconds idle = std::chrono::seconds{60}) {
    storage::options o;
    o.dir = dir_;
    std::string error;
    db_ = storage::database::open(o, error);
    ASSERT_TRUE(db_) << error;
    actors::node_options n;
    n.node_id = "node-test";
    n.cluster_host = "127.0.0.1";
    n.cluster_port = 0;
    n.settings.idle_timeout = idle;
    node_ = std::make_unique<actors::node>(*db_, clock_, n);
    ASSERT_TRUE(node_->start(error)) << error;
  }

  void close() {
    if (node_)
      node_->stop();
    node_.reset();
    db_.reset();
  }

  service::client_result define(const std::string& id, std::vector<domain::definition> defs) {
    std::promise<service::client_result> p;
    node_->set_quotas(id, std::move(defs), [&](service::client_result r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  service::client_result status(const std::string& id) {
    std::promise<service::client_result> p;
    node_->get_quotas(id, [&](service::client_result r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  service::debit_result debit(const std::string& id, domain::micro_credits amount = credits(1),
                              std::string key = {}, bool dry_run = false) {
    service::debit_request req;
    req.client_id = id;
    req.credits = amount;
    req.idempotency_key = std::move(key);
    req.dry_run = dry_run;
    std::promise<service::debit_result> p;
    node_->debit(std::move(req), [&](service::debit_result r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  domain::micro_credits ledger_total(const std::string& id) {
    service::usage_query q;
    q.client_id = id;
    std::promise<service::usage_result> p;
    node_->usage(std::move(q), [&](service::usage_result r) { p.set_value(std::move(r)); });
    return p.get_future().get().total;
  }

  static domain::definition day(domain::micro_credits limit) {
    return {domain::duration::day, limit,
            domain::anchor::make(domain::from_epoch(1'640'995'200), domain::find_zone("UTC"))};
  }

  std::string dir_;
  service::node_clock clock_{true};
  std::unique_ptr<storage::database> db_;
  std::unique_ptr<actors::node> node_;
};

} // namespace

TEST_F(node_test, unknown_clients_are_refused_and_nothing_is_recorded) {
  auto r = debit("nobody");
  EXPECT_EQ(r.result, service::outcome::unknown_client);
  EXPECT_EQ(r.owner, "node-test");
  EXPECT_EQ(status("nobody").result, service::outcome::unknown_client);
  EXPECT_TRUE(db_->client_ids().empty());
}

TEST_F(node_test, concurrent_debits_admit_exactly_the_limit) {
  ASSERT_EQ(define("c", {day(credits(300))}).result, service::outcome::ok);
  std::atomic<int> allowed{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 60; ++i) {
        auto r = debit("c");
        (r.result == service::outcome::ok ? allowed : refused)++;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(allowed.load(), 300);
  EXPECT_EQ(refused.load(), 180);
  auto s = status("c");
  ASSERT_EQ(s.view.quotas.size(), 1u);
  EXPECT_EQ(s.view.quotas[0].used, credits(300));
  EXPECT_EQ(ledger_total("c"), credits(300));
}

TEST_F(node_test, a_refusal_and_a_dry_run_record_nothing) {
  define("c", {day(credits(5))});
  EXPECT_EQ(debit("c", credits(3)).result, service::outcome::ok);
  auto refused = debit("c", credits(3));
  EXPECT_EQ(refused.result, service::outcome::refused);
  EXPECT_EQ(refused.remaining, credits(2));
  EXPECT_EQ(refused.retry_after, 14 * 3600);  // until 2026-12-04T00:00:00Z
  auto dry = debit("c", credits(2), {}, true);
  EXPECT_EQ(dry.result, service::outcome::ok);
  EXPECT_EQ(dry.remaining, 0);
  EXPECT_EQ(status("c").view.quotas[0].used, credits(3));
  EXPECT_EQ(ledger_total("c"), credits(3));
}

TEST_F(node_test, an_idempotency_key_debits_once_even_when_repeated_at_once) {
  define("c", {day(credits(10))});
  std::vector<std::future<service::debit_result>> answers;
  for (int i = 0; i < 6; ++i)
    answers.push_back(std::async(std::launch::async, [&] { return debit("c", credits(2), "k"); }));
  int replayed = 0;
  for (auto& a : answers) {
    auto r = a.get();
    ASSERT_EQ(r.result, service::outcome::ok);
    EXPECT_EQ(r.credits, credits(2));
    EXPECT_EQ(r.remaining, credits(8));
    replayed += r.replayed;
  }
  EXPECT_EQ(replayed, 5);
  EXPECT_EQ(ledger_total("c"), credits(2));
}

TEST_F(node_test, state_survives_a_restart_and_windows_renew) {
  define("c", {day(credits(10))});
  debit("c", credits(4));
  debit("c", credits(1), "key-1");
  close();
  open();
  auto s = status("c");
  ASSERT_EQ(s.result, service::outcome::ok);
  EXPECT_EQ(s.view.quotas[0].used, credits(5));
  EXPECT_TRUE(debit("c", credits(1), "key-1").replayed);
  clock_.advance(14 * 3600);  // 2026-12-04T00:00:00Z: a new day
  s = status("c");
  EXPECT_EQ(s.view.quotas[0].used, 0);
  EXPECT_EQ(debit("c", credits(10)).result, service::outcome::ok);
  EXPECT_EQ(ledger_total("c"), credits(15));
}

TEST_F(node_test, idle_actors_retire_and_come_back_with_their_state) {
  close();
  open(std::chrono::seconds{1});
  define("c", {day(credits(10))});
  debit("c", credits(7));
  // Wait (bounded) for the idle actor to retire: its state is on disk.
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    metrics.clear();
    node_->append_metrics(metrics);
    if (metrics.find("quotad_client_actors 0\n") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  ASSERT_NE(metrics.find("quotad_client_actors 0\n"), std::string::npos) << metrics;
  ASSERT_NE(metrics.find("quotad_client_actors_retired_total 1\n"), std::string::npos) << metrics;
  auto r = debit("c", credits(4));
  EXPECT_EQ(r.result, service::outcome::refused);
  EXPECT_EQ(r.remaining, credits(3));
}

TEST_F(node_test, replacing_definitions_counts_the_usage_already_recorded) {
  define("c", {day(credits(10))});
  debit("c", credits(6));
  auto s = define("c", {day(credits(8)),
                        {domain::duration::hour, credits(100),
                         domain::anchor::make(domain::from_epoch(0), domain::find_zone("UTC"))}});
  ASSERT_EQ(s.view.quotas.size(), 2u);
  // Sorted by duration: HOUR first. Both windows hold the 6 credits of 10:00.
  EXPECT_EQ(s.view.quotas[0].used, credits(6));
  EXPECT_EQ(s.view.quotas[1].used, credits(6));
  EXPECT_EQ(debit("c", credits(3)).result, service::outcome::refused);
}

TEST_F(node_test, a_batch_answers_in_order) {
  define("a", {day(credits(1))});
  define("b", {day(credits(5))});
  std::vector<service::debit_request> reqs(4);
  reqs[0].client_id = "a";
  reqs[1].client_id = "a";
  reqs[2].client_id = "nobody";
  reqs[3].client_id = "b";
  for (auto& r : reqs)
    r.want_quotas = false;
  std::promise<std::vector<service::debit_result>> p;
  node_->debit_batch(std::move(reqs), [&](std::vector<service::debit_result> rs) { p.set_value(std::move(rs)); });
  auto rs = p.get_future().get();
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].result, service::outcome::ok);
  EXPECT_EQ(rs[1].result, service::outcome::refused);
  EXPECT_EQ(rs[2].result, service::outcome::unknown_client);
  EXPECT_EQ(rs[3].result, service::outcome::ok);
  EXPECT_EQ(rs[3].remaining, credits(4));
}
