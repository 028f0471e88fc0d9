#include "actors/node.hpp"

#include <atomic>
#include <mutex>

#include <caf/all.hpp>

#include "actors/client_actor.hpp"
#include "actors/registry.hpp"

namespace quotad::actors {

namespace {

caf::actor_system_config& configure(caf::actor_system_config& cfg, std::size_t threads) {
  cfg.set("scheduler.max-threads", threads);
  // Few cores: workers sleep soon when idle instead of spinning for work.
  cfg.set("work-stealing.aggressive-poll-attempts", 20);
  cfg.set("work-stealing.moderate-poll-attempts", 50);
  cfg.set("logger.console", caf::atom("none"));
  return cfg;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

} // namespace

struct node::impl {
  impl(storage::database& db, service::node_clock& clock, node_options o)
    : opts(std::move(o)),
      system(configure(cfg, opts.scheduler_threads)),
      clients([this](const std::string& id, registry::entry* e) {
        return system.spawn<caf::lazy_init>(client, id, &ctx, e);
      }),
      ctx{db, clock, clients, opts.settings, opts.node_id} {
  }

  node_options opts;
  caf::actor_system_config cfg;
  caf::actor_system system;
  registry clients;
  node_context ctx;
  std::once_flag stopped;

  template <class Atom, class Job>
  void send(const std::string& client_id, Atom atom, Job job) {
    caf::anon_send(clients.acquire(client_id), atom, std::move(job));
  }
};

node::node(storage::database& db, service::node_clock& clock, node_options opts)
  : impl_(std::make_unique<impl>(db, clock, std::move(opts))) {
}

node::~node() {
  stop();
}

void node::stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->ctx.db.wait_committed();
    impl_->clients.for_each([](const client_actor& a) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    });
    impl_->system.await_all_actors_done();
  });
}

void node::set_quotas(std::string client_id, std::vector<domain::definition> defs,
                      service::reply<service::client_result> done) {
  impl_->send(client_id, define_atom::value, define_job{std::move(defs), std::move(done)});
}

void node::get_quotas(std::string client_id, service::reply<service::client_result> done) {
  impl_->send(client_id, status_atom::value, status_job{std::move(done)});
}

void node::delete_client(std::string client_id, service::reply<service::client_result> done) {
  impl_->send(client_id, forget_atom::value, status_job{std::move(done)});
}

void node::debit(service::debit_request req, service::reply<service::debit_result> done) {
  auto actor = impl_->clients.acquire(req.client_id);
  caf::anon_send(actor, debit_atom::value, debit_job{std::move(req), std::move(done)});
}

void node::debit_batch(std::vector<service::debit_request> reqs,
                       service::reply<std::vector<service::debit_result>> done) {
  // Items go to their client actors concurrently; the last answer to come
  // back completes the batch, in request order.
  struct gather {
    std::vector<service::debit_result> results;
    std::atomic<std::size_t> missing;
    service::reply<std::vector<service::debit_result>> done;
  };
  auto n = reqs.size();
  if (n == 0) {
    done({});
    return;
  }
  auto g = std::make_shared<gather>();
  g->results.resize(n);
  g->missing.store(n);
  g->done = std::move(done);
  for (std::size_t i = 0; i < n; ++i) {
    auto actor = impl_->clients.acquire(reqs[i].client_id);
    caf::anon_send(actor, debit_atom::value,
                   debit_job{std::move(reqs[i]), [g, i](service::debit_result r) {
                     g->results[i] = std::move(r);
                     if (g->missing.fetch_sub(1, std::memory_order_acq_rel) == 1)
                       g->done(std::move(g->results));
                   }});
  }
}

void node::usage(service::usage_query q, service::reply<service::usage_result> done) {
  auto id = q.client_id;
  impl_->send(id, usage_atom::value, usage_job{std::move(q), std::move(done)});
}

void node::delete_usage(std::string client_id, std::optional<std::int64_t> from,
                        std::optional<std::int64_t> to,
                        service::reply<service::client_result> done) {
  impl_->send(client_id, erase_atom::value, erase_job{from, to, std::move(done)});
}

void node::import_usage(std::string client_id, std::string import_id,
                        std::vector<service::usage_record> records,
                        service::reply<service::client_result> done) {
  impl_->send(client_id, import_atom::value,
              import_job{std::move(import_id), std::move(records), std::move(done)});
}

bool node::ready() const {
  return true;
}

std::string node::node_id() const {
  return impl_->opts.node_id;
}

std::string node::cluster_json() const {
  const auto& o = impl_->opts;
  std::string out = "{\"node_id\":";
  append_json_string(out, o.node_id);
  out += ",\"epoch\":1,\"members\":[{\"node_id\":";
  append_json_string(out, o.node_id);
  out += ",\"http\":";
  append_json_string(out, o.http_address);
  out += ",\"cluster\":";
  append_json_string(out, o.cluster_address);
  out += ",\"state\":\"up\"}]}";
  return out;
}

void node::append_metrics(std::string& out) const {
  const auto& ctx = impl_->ctx;
  const auto& c = impl_->clients;
  auto stats = ctx.db.stats();
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
  line("quotad_cluster_members", "gauge", "Members of the cluster, this node included.", 1);
}

} // namespace quotad::actors
