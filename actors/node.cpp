#include "actors/node.hpp"

#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client_actor.hpp"
#include "actors/cluster_actor.hpp"
#include "actors/dispatch.hpp"
#include "actors/registry.hpp"
#include "actors/routing.hpp"
#include "actors/wire.hpp"

namespace quotad::actors {

namespace {

caf::actor_system_config& configure(caf::actor_system_config& cfg, std::size_t threads) {
  cfg.load<caf::io::middleman>();
  add_wire_types(cfg);
  cfg.set("scheduler.max-threads", threads);
  // Few cores: workers sleep soon when idle instead of spinning for work.
  cfg.set("work-stealing.aggressive-poll-attempts", 20);
  cfg.set("work-stealing.moderate-poll-attempts", 50);
  cfg.set("logger.console", caf::atom("none"));
  // Only quotad nodes may connect, and a silent peer is noticed in seconds.
  cfg.set("middleman.app-identifiers", std::vector<std::string>{"quotad-1"});
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds{500}});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds{3}});
  return cfg;
}

} // namespace

void add_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<wire_quota>("quotad.wire_quota");
  cfg.add_message_type<wire_debit_request>("quotad.wire_debit_request");
  cfg.add_message_type<wire_debit_result>("quotad.wire_debit_result");
  cfg.add_message_type<wire_client_result>("quotad.wire_client_result");
  cfg.add_message_type<wire_usage_query>("quotad.wire_usage_query");
  cfg.add_message_type<wire_day>("quotad.wire_day");
  cfg.add_message_type<wire_usage_result>("quotad.wire_usage_result");
  cfg.add_message_type<wire_change>("quotad.wire_change");
  cfg.add_message_type<wire_client_state>("quotad.wire_client_state");
  cfg.add_message_type<wire_member>("quotad.wire_member");
  cfg.add_message_type<wire_view>("quotad.wire_view");
}

std::string encode_view(const cluster::view& v) {
  std::string out = std::to_string(v.epoch) + "\n";
  for (const auto& m : v.members)
    out += m.node_id + " " + m.http + " " + m.cluster + " "
           + std::to_string(static_cast<int>(m.state)) + "\n";
  return out;
}

std::optional<cluster::view> decode_view(std::string_view text) {
  std::istringstream in{std::string{text}};
  cluster::view v;
  if (!(in >> v.epoch))
    return std::nullopt;
  cluster::member m;
  int state = 0;
  while (in >> m.node_id >> m.http >> m.cluster >> state) {
    if (state < 0 || state > 3)
      return std::nullopt;
    m.state = static_cast<cluster::member_state>(state);
    v.upsert(m);
  }
  return v;
}

struct node::impl {
  impl(storage::database& db, service::node_clock& clock, node_options o)
    : opts(std::move(o)),
      system(configure(cfg, opts.scheduler_threads)),
      routes(std::make_shared<routing_snapshot>(opts.node_id, cluster::view{})),
      clients([this](const std::string& id, registry::entry* e) {
        return system.spawn<caf::lazy_init>(client, id, &ctx, e);
      }),
      ctx{db, clock, clients, routes, opts.settings, opts.node_id, {}} {
  }

  node_options opts;
  caf::actor_system_config cfg;
  caf::actor_system system;
  routing routes;
  registry clients;
  node_context ctx;
  std::once_flag stopped;

  // Once a second, idle client actors are asked to retire.
  std::thread janitor;
  std::mutex janitor_mutex;
  std::condition_variable janitor_wake;
  bool janitor_stop = false;

  void run_janitor() {
    auto idle = static_cast<std::uint32_t>(std::max<std::int64_t>(1, opts.settings.idle_timeout.count()));
    std::unique_lock lock{janitor_mutex};
    while (!janitor_wake.wait_for(lock, std::chrono::seconds{1}, [this] { return janitor_stop; }))
      clients.sweep(idle, [](const client_actor& a) { caf::anon_send(a, tick_atom::value); });
  }
};

node::node(storage::database& db, service::node_clock& clock, node_options opts)
  : impl_(std::make_unique<impl>(db, clock, std::move(opts))) {
}

node::~node() {
  stop();
}

bool node::start(std::string& error) {
  auto& o = impl_->opts;
  cluster_settings cs;
  cs.self = {o.node_id, o.http_address, o.cluster_address, cluster::member_state::up};
  cs.join_through = o.seeds;
  std::optional<cluster::view> kept;
  if (auto text = impl_->ctx.db.get_meta("view"))
    kept = decode_view(*text);
  if (kept)
    for (const auto& m : kept->members)
      if (m.node_id != o.node_id
          && std::find(cs.join_through.begin(), cs.join_through.end(), m.cluster)
               == cs.join_through.end())
        cs.join_through.push_back(m.cluster);
  if (kept && kept->find(o.node_id))
    cs.remembered = kept;
  if (cs.join_through.empty()) {
    // No seeds and no cluster to return to: a cluster of one.
    cs.start_view.epoch = kept ? kept->epoch + 1 : 1;
    cs.start_view.upsert(cs.self);
  } else {
    // Not a member until the cluster says so.
    cs.start_view.epoch = 0;
    cs.start_view.upsert({o.node_id, o.http_address, o.cluster_address,
                          cluster::member_state::joining});
  }
  impl_->janitor = std::thread{[this] { impl_->run_janitor(); }};
  // Routing is in place before the first request, not once the actor runs.
  impl_->routes.set(std::make_shared<routing_snapshot>(o.node_id, cs.start_view));
  auto actor = spawn_cluster_actor(impl_->system, &impl_->ctx, std::move(cs));
  impl_->ctx.cluster = actor;
  auto port = impl_->system.middleman().publish(actor, o.cluster_port, o.cluster_host.c_str(), true);
  if (!port) {
    error = impl_->system.render(port.error());
    return false;
  }
  return true;
}

void node::leave(std::chrono::seconds timeout) {
  if (!impl_->ctx.cluster)
    return;
  caf::scoped_actor self{impl_->system};
  self->request(impl_->ctx.cluster, timeout, leave_atom::value)
    .receive([](bool) { spdlog::debug("left the cluster"); },
             [](caf::error& e) {
               spdlog::warn("leaving the cluster did not complete: {}", caf::to_string(e));
             });
}

void node::stop() {
  std::call_once(impl_->stopped, [this] {
    if (impl_->janitor.joinable()) {
      {
        std::lock_guard lock{impl_->janitor_mutex};
        impl_->janitor_stop = true;
      }
      impl_->janitor_wake.notify_one();
      impl_->janitor.join();
    }
    // Requests relayed to other nodes (for clients that moved away) must
    // get their answers before the cluster actor goes: each waits at most
    // the forward timeout.
    auto deadline = std::chrono::steady_clock::now() + impl_->opts.settings.forward_timeout
                    + std::chrono::seconds{1};
    while (impl_->ctx.forwards_in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    impl_->ctx.db.wait_committed();
    impl_->clients.for_each([](const client_actor& a) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    });
    if (impl_->ctx.cluster) {
      impl_->system.middleman().unpublish(impl_->ctx.cluster, 0);
      caf::anon_send_exit(impl_->ctx.cluster, caf::exit_reason::user_shutdown);
    }
    impl_->system.await_all_actors_done();
    impl_->ctx.cluster = nullptr;
  });
}

namespace {

wire_change change(change_kind kind, std::string client_id) {
  wire_change c;
  c.kind = static_cast<std::uint8_t>(kind);
  c.client_id = std::move(client_id);
  return c;
}

} // namespace

void node::set_quotas(std::string client_id, std::vector<domain::definition> defs,
                      service::reply<service::client_result> done) {
  auto c = change(change_kind::define, std::move(client_id));
  for (const auto& d : defs)
    c.definitions.push_back(to_wire(d));
  dispatch_change(impl_->ctx, std::move(c), std::move(done));
}

void node::get_quotas(std::string client_id, service::reply<service::client_result> done) {
  dispatch_change(impl_->ctx, change(change_kind::status, std::move(client_id)), std::move(done));
}

void node::delete_client(std::string client_id, service::reply<service::client_result> done) {
  dispatch_change(impl_->ctx, change(change_kind::forget, std::move(client_id)), std::move(done));
}

void node::debit(service::debit_request req, service::reply<service::debit_result> done) {
  dispatch_debit(impl_->ctx, std::move(req), std::move(done));
}

void node::debit_batch(std::vector<service::debit_request> reqs,
                       service::reply<std::vector<service::debit_result>> done) {
  dispatch_batch(impl_->ctx, std::move(reqs), std::move(done));
}

void node::usage(service::usage_query q, service::reply<service::usage_result> done) {
  dispatch_usage(impl_->ctx, std::move(q), std::move(done));
}

void node::delete_usage(std::string client_id, std::optional<std::int64_t> from,
                        std::optional<std::int64_t> to,
                        service::reply<service::client_result> done) {
  auto c = change(change_kind::erase, std::move(client_id));
  c.has_from = from.has_value();
  c.from = from.value_or(0);
  c.has_to = to.has_value();
  c.to = to.value_or(0);
  dispatch_change(impl_->ctx, std::move(c), std::move(done));
}

void node::import_usage(std::string client_id, std::string import_id,
                        std::vector<service::usage_record> records,
                        service::reply<service::client_result> done) {
  auto c = change(change_kind::import, std::move(client_id));
  c.import_id = std::move(import_id);
  c.records.reserve(records.size());
  for (const auto& r : records)
    c.records.emplace_back(r.at, r.credits);
  dispatch_change(impl_->ctx, std::move(c), std::move(done));
}

void node::remove_member(std::string node_id, service::reply<service::outcome> done) {
  if (node_id == impl_->opts.node_id) {
    done(service::outcome::conflict);
    return;
  }
  caf::anon_send(impl_->ctx.cluster, remove_member_job{std::move(node_id), std::move(done)});
}

void node::leave_cluster() {
  if (impl_->opts.on_leave_request)
    impl_->opts.on_leave_request();
}

bool node::ready() const {
  return impl_->routes.get()->joined();
}

std::string node::node_id() const {
  return impl_->opts.node_id;
}

service::cluster_info node::cluster() const {
  auto s = impl_->routes.get();
  service::cluster_info info;
  info.node_id = impl_->opts.node_id;
  info.epoch = s->view.epoch;
  for (const auto& m : s->view.members)
    info.members.push_back({m.node_id, m.http, m.cluster, std::string{cluster::to_string(m.state)}});
  return info;
}

void node::append_metrics(std::string& out) const {
  const auto& ctx = impl_->ctx;
  const auto& c = impl_->clients;
  auto stats = ctx.db.stats();
  auto snapshot = impl_->routes.get();
  auto line = [&out](std::string_view name, std::string_view type, std::string_view help,
                     std::uint64_t value) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  };
  line("quotad_client_actors", "gauge", "Client actors resident on this node.", c.size());
  line("quotad_client_actors_spawned_total", "counter", "Client actors started.", c.spawned());
  line("quotad_client_actors_retired_total", "counter", "Client actors retired when idle.",
       c.retired());
  line("quotad_storage_commits_total", "counter", "Write cycles of the single write path.",
       stats.commits);
  line("quotad_storage_mutations_total", "counter", "Mutations written.", stats.mutations);
  line("quotad_storage_failed_commits_total", "counter", "Write cycles that failed.",
       stats.failed_commits);
  line("quotad_storage_queue_depth", "gauge", "Mutations waiting for the write path.",
       stats.queue_depth);
  line("quotad_storage_live_data_bytes", "gauge", "Estimated live data in RocksDB.",
       stats.live_data_bytes);
  line("quotad_ledger_rollups_total", "counter", "Ledger roll-ups into 15-minute buckets.",
       ctx.rollups.load());
  line("quotad_forwarded_total", "counter", "Requests sent to the node that owns the client.",
       ctx.forwarded.load());
  line("quotad_forward_failures_total", "counter", "Forwarded requests answered 503.",
       ctx.forward_failures.load());
  line("quotad_received_total", "counter", "Requests answered for other nodes' front doors.",
       ctx.received.load());
  line("quotad_clients_moved_out_total", "counter", "Clients handed to a new owner.",
       ctx.clients_moved_out.load());
  line("quotad_clients_moved_in_total", "counter", "Clients adopted from another node.",
       ctx.clients_moved_in.load());
  line("quotad_cluster_epoch", "gauge", "The member list's epoch as this node sees it.",
       snapshot->view.epoch);
  std::size_t up = 0, down = 0;
  for (const auto& m : snapshot->view.members) {
    up += m.state == cluster::member_state::up;
    down += m.state == cluster::member_state::down;
  }
  line("quotad_cluster_members", "gauge", "Members of the cluster, this node included.",
       snapshot->view.members.size());
  line("quotad_cluster_members_up", "gauge", "Members that are up.", up);
  line("quotad_cluster_members_down", "gauge", "Members that are down.", down);
}

} // namespace quotad::actors
