// Every type that crosses the network survives CAF's binary serialization,
// and every message a node sends arrives whole at another actor system
// (an unregistered type would arrive empty).
#include "actors/wire.hpp"

#include <filesystem>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <gtest/gtest.h>

#include "actors/cluster_actor.hpp"
#include "actors/protocol.hpp"

using namespace quotad;
using namespace quotad::actors;

namespace {

struct wire_test : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;

  void SetUp() override {
    add_wire_types(cfg);
    cfg.set("scheduler.max-threads", 1);
    cfg.set("logger.console", caf::atom("none"));
    system = std::make_unique<caf::actor_system>(cfg);
  }

  template <class T>
  T round_trip(T x) {
    std::vector<char> buf;
    caf::binary_serializer sink{*system, buf};
    EXPECT_EQ(sink(x), caf::none);
    T y;
    caf::binary_deserializer source{*system, buf};
    EXPECT_EQ(source(y), caf::none);
    return y;
  }

  /// Serializes a whole message as the middleman would: registered types only.
  caf::message message_round_trip(const caf::message& m) {
    std::vector<char> buf;
    caf::binary_serializer sink{*system, buf};
    auto copy = m;
    EXPECT_EQ(sink(copy), caf::none);
    caf::message out;
    caf::binary_deserializer source{*system, buf};
    EXPECT_EQ(source(out), caf::none);
    return out;
  }
};

wire_quota sample_quota() {
  return {3, 500'000'000, 1640995200, "Europe/Berlin", 1764716400, 1764802800, 12'500'000};
}

} // namespace

TEST_F(wire_test, quota_and_definition_conversions_keep_every_field) {
  auto w = round_trip(sample_quota());
  domain::quota q;
  ASSERT_TRUE(from_wire(w, q));
  EXPECT_EQ(q.def.dur, domain::duration::day);
  EXPECT_EQ(q.def.limit, 500'000'000);
  EXPECT_EQ(domain::to_epoch(q.def.start.at), 1640995200);
  EXPECT_EQ(q.def.start.zone->name(), "Europe/Berlin");
  EXPECT_EQ(domain::to_epoch(q.current.start), 1764716400);
  EXPECT_EQ(domain::to_epoch(q.current.end), 1764802800);
  EXPECT_EQ(q.used, 12'500'000);
  auto back = to_wire(q);
  EXPECT_EQ(back.zone, "Europe/Berlin");
  EXPECT_EQ(back.used, 12'500'000);
  w.zone = "Mars/Base";
  EXPECT_FALSE(from_wire(w, q));
  w.zone = "UTC";
  w.dur = 9;
  EXPECT_FALSE(from_wire(w, q));
}

TEST_F(wire_test, debit_request_and_result) {
  service::debit_request r;
  r.client_id = "ä-client";
  r.credits = 2'500'000;
  r.idempotency_key = "k1";
  r.dry_run = true;
  r.want_quotas = false;
  auto w = round_trip(to_wire(r));
  w.hops = 1;
  w = round_trip(w);
  EXPECT_EQ(w.hops, 1);
  auto back = from_wire(w);
  EXPECT_EQ(back.client_id, "ä-client");
  EXPECT_EQ(back.credits, 2'500'000);
  EXPECT_EQ(back.idempotency_key, "k1");
  EXPECT_TRUE(back.dry_run);
  EXPECT_FALSE(back.want_quotas);

  service::debit_result res;
  res.result = service::outcome::refused;
  res.credits = 0;
  res.has_quota = true;
  res.remaining = 1'000'000;
  res.reset = 1764802800;
  res.retry_after = 3600;
  res.violated = 0b101;
  res.reported = 2;
  res.replayed = true;
  res.now = domain::from_epoch(1764799200);
  res.detail = "d";
  res.owner = "node-b";
  domain::quota q;
  ASSERT_TRUE(from_wire(sample_quota(), q));
  res.quotas = {q, q};
  auto rb = from_wire(round_trip(to_wire(res)));
  EXPECT_EQ(rb.result, service::outcome::refused);
  EXPECT_TRUE(rb.has_quota);
  EXPECT_EQ(rb.remaining, 1'000'000);
  EXPECT_EQ(rb.reset, 1764802800);
  EXPECT_EQ(rb.retry_after, 3600);
  EXPECT_EQ(rb.violated, 0b101);
  EXPECT_EQ(rb.reported, 2);
  EXPECT_TRUE(rb.replayed);
  EXPECT_EQ(domain::to_epoch(rb.now), 1764799200);
  EXPECT_EQ(rb.quotas.size(), 2u);
  EXPECT_EQ(rb.owner, "node-b");
  EXPECT_EQ(rb.detail, "d");
}

TEST_F(wire_test, client_result_usage_and_change) {
  service::client_result c;
  c.result = service::outcome::ok;
  c.view.client_id = "c";
  domain::quota q;
  ASSERT_TRUE(from_wire(sample_quota(), q));
  c.view.quotas = {q};
  c.view.lowest = 0;
  c.view.now = domain::from_epoch(42);
  c.owner = "n";
  auto cb = from_wire(round_trip(to_wire(c)));
  EXPECT_EQ(cb.view.client_id, "c");
  ASSERT_EQ(cb.view.quotas.size(), 1u);
  EXPECT_EQ(cb.view.lowest, std::optional<std::size_t>{0});
  EXPECT_EQ(domain::to_epoch(cb.view.now), 42);

  service::usage_query uq;
  uq.client_id = "u";
  uq.from = -5;
  uq.daily = true;
  uq.zone = domain::find_zone("America/New_York");
  auto ub = from_wire(round_trip(to_wire(uq)));
  EXPECT_EQ(ub.from, std::optional<std::int64_t>{-5});
  EXPECT_FALSE(ub.to.has_value());
  EXPECT_TRUE(ub.daily);
  EXPECT_EQ(ub.zone->name(), "America/New_York");

  service::usage_result ur;
  ur.total = 7'000'000;
  ur.days = {{1764720000, "2025-12-03", 7'000'000}};
  auto urb = from_wire(round_trip(to_wire(ur)));
  EXPECT_EQ(urb.total, 7'000'000);
  ASSERT_EQ(urb.days.size(), 1u);
  EXPECT_EQ(urb.days[0].date, "2025-12-03");

  wire_change ch;
  ch.kind = static_cast<std::uint8_t>(change_kind::import);
  ch.client_id = "c";
  ch.import_id = "i";
  ch.records = {{1, 2}, {3, 4}};
  ch.has_to = true;
  ch.to = 9;
  auto chb = round_trip(ch);
  EXPECT_EQ(chb.records, ch.records);
  EXPECT_EQ(chb.import_id, "i");
  EXPECT_TRUE(chb.has_to);
  EXPECT_EQ(chb.to, 9);
}

TEST_F(wire_test, client_state_and_view) {
  storage::client_export e;
  storage::stored_client sc;
  domain::definition d;
  ASSERT_TRUE(from_wire(sample_quota(), d));
  sc.definitions = {d};
  sc.rolled_until = 900;
  sc.windows = {{domain::from_epoch(1764716400), domain::from_epoch(1764802800)}};
  sc.used = {7'000'000};
  e.client = sc;
  e.ledger = {{100, 1'000'000}, {200, 2'000'000}};
  e.answers = {{"key", {1, 2, 3, 4}}};
  e.imports = {{"imp", 5}};
  auto w = round_trip(to_wire_state("c", e));
  EXPECT_TRUE(w.known);
  EXPECT_EQ(w.quotas.size(), 1u);
  EXPECT_EQ(w.rolled_until, 900);
  EXPECT_EQ(w.windows, (std::vector<std::int64_t>{1764716400, 1764802800, 7'000'000}));
  EXPECT_EQ(w.ledger, e.ledger);
  ASSERT_EQ(w.answers.size(), 1u);
  EXPECT_EQ(w.answers[0].second, (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(w.imports, e.imports);

  cluster::view v;
  v.epoch = 7;
  v.upsert({"b", "127.0.0.1:2", "127.0.0.1:3", cluster::member_state::down});
  v.upsert({"a", "127.0.0.1:1", "127.0.0.1:4", cluster::member_state::up});
  auto vb = from_wire(round_trip(to_wire(v)));
  EXPECT_EQ(vb.epoch, 7u);
  EXPECT_EQ(vb.members, v.members);
  EXPECT_EQ(decode_view(encode_view(v))->members, v.members);
  EXPECT_EQ(decode_view(encode_view(v))->epoch, 7u);
  EXPECT_FALSE(decode_view("nonsense").has_value());
}

TEST_F(wire_test, whole_messages_of_registered_types_survive) {
  wire_debit_request r{"c", 1'000'000, "", false, true, 1};
  auto m = message_round_trip(caf::make_message(debit_atom::value, r));
  ASSERT_TRUE((m.match_elements<debit_atom, wire_debit_request>()));
  EXPECT_EQ(m.get_as<wire_debit_request>(1).client_id, "c");
  std::vector<wire_debit_request> batch{r, r};
  auto mb = message_round_trip(caf::make_message(batch_atom::value, batch));
  ASSERT_TRUE((mb.match_elements<batch_atom, std::vector<wire_debit_request>>()));
  EXPECT_EQ(mb.get_as<std::vector<wire_debit_request>>(1).size(), 2u);
  std::vector<wire_debit_result> results(3);
  auto mr = message_round_trip(caf::make_message(results));
  ASSERT_TRUE((mr.match_elements<std::vector<wire_debit_result>>()));
  EXPECT_EQ(mr.get_as<std::vector<wire_debit_result>>(0).size(), 3u);
  auto mv = message_round_trip(caf::make_message(view_atom::value, wire_view{3, {}}));
  ASSERT_TRUE((mv.match_elements<view_atom, wire_view>()));
  EXPECT_EQ(mv.get_as<wire_view>(1).epoch, 3u);
  wire_client_state full;
  full.client_id = "c";
  full.known = true;
  full.quotas = {sample_quota()};
  full.ledger = {{1, 2}};
  full.answers = {{"k", {1, 2, 3, 4}}};
  full.imports = {{"i", 5}};
  auto ms = message_round_trip(caf::make_message(adopt_atom::value, full));
  ASSERT_TRUE((ms.match_elements<adopt_atom, wire_client_state>()));
  EXPECT_EQ(ms.get_as<wire_client_state>(1).answers.size(), 1u);
  auto mc = message_round_trip(caf::make_message(change_atom::value, wire_change{}));
  ASSERT_TRUE((mc.match_elements<change_atom, wire_change>()));
  auto mu = message_round_trip(caf::make_message(usage_atom::value, wire_usage_query{}));
  ASSERT_TRUE((mu.match_elements<usage_atom, wire_usage_query>()));
  auto mur = message_round_trip(caf::make_message(wire_usage_result{}));
  ASSERT_TRUE((mur.match_elements<wire_usage_result>()));
  auto mcr = message_round_trip(caf::make_message(wire_client_result{}));
  ASSERT_TRUE((mcr.match_elements<wire_client_result>()));
  auto mj = message_round_trip(caf::make_message(join_atom::value, wire_member{"n", "h", "c", 1}));
  ASSERT_TRUE((mj.match_elements<join_atom, wire_member>()));
  EXPECT_EQ(mj.get_as<wire_member>(1).node_id, "n");
}

// A client moved between two real databases arrives whole: definitions,
// window counters exactly as they were, ledger, answers, imports.
TEST_F(wire_test, a_moved_client_arrives_whole) {
  auto dir_of = [](const char* name) {
    std::string tmpl = (std::filesystem::temp_directory_path() / name).string() + "-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    return tmpl;
  };
  auto from_dir = dir_of("quotad-move-from");
  auto to_dir = dir_of("quotad-move-to");
  {
    std::string error;
    storage::options o;
    o.dir = from_dir;
    auto from = storage::database::open(o, error);
    ASSERT_TRUE(from) << error;
    o.dir = to_dir;
    auto to = storage::database::open(o, error);
    ASSERT_TRUE(to) << error;

    domain::definition d;
    ASSERT_TRUE(from_wire(sample_quota(), d));
    domain::quota_set qs;
    qs.assign({d}, domain::from_epoch(1764750000));
    // Counters that the ledger alone could not give back exactly.
    qs.set_used(0, 12'345'678);
    storage::mutation m{"c"};
    m.put_definitions({d});
    m.put_windows(qs, 1800);
    m.add_usage(1764750000, 3'000'000);
    m.put_answer("k", {1, 2, 3, 4'000'000'000});
    m.put_import("imp", 9);
    ASSERT_TRUE(from->write_now(std::move(m)));

    auto state = to_wire_state("c", from->export_client("c"));
    storage::mutation in{"c"};
    ASSERT_TRUE(adopt_into(round_trip(state), in));
    ASSERT_TRUE(to->write_now(std::move(in)));

    auto moved = to->load_client("c");
    ASSERT_TRUE(moved);
    ASSERT_EQ(moved->definitions.size(), 1u);
    EXPECT_EQ(moved->definitions[0].limit, 500'000'000);
    ASSERT_EQ(moved->used.size(), 1u);
    EXPECT_EQ(moved->used[0], 12'345'678);
    EXPECT_EQ(moved->windows[0], qs.quotas()[0].current);
    EXPECT_EQ(moved->rolled_until, 1800);
    EXPECT_EQ(to->ledger_total("c", INT64_MIN, INT64_MAX), 3'000'000);
    EXPECT_EQ(to->find_answer("c", "k", 0)->reset, 3);
    EXPECT_TRUE(to->import_applied("c", "imp"));
  }
  std::filesystem::remove_all(from_dir);
  std::filesystem::remove_all(to_dir);
}
