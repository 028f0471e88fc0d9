// quotad: one node of the quota cluster. Wires storage, the actor node and
// the HTTP front door together, then waits for SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>

#include <pthread.h>
#include <unistd.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "actors/node.hpp"
#include "app/options.hpp"
#include "http/server.hpp"
#include "storage/database.hpp"

namespace {

using namespace quotad;

std::string generate_node_id() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "node-%08x", rd());
  return buf;
}

/// The node id kept in the data directory; a contradicting --node-id is a
/// configuration error (exit 2).
std::optional<std::string> settle_node_id(storage::database& db, const std::string& wanted,
                                          std::string& error) {
  auto stored = db.get_meta("node_id");
  if (stored) {
    if (!wanted.empty() && wanted != *stored) {
      error = "--node-id: '" + wanted + "' contradicts the id '" + *stored
              + "' kept in the data directory";
      return std::nullopt;
    }
    return stored;
  }
  auto id = wanted.empty() ? generate_node_id() : wanted;
  if (!db.put_meta("node_id", id)) {
    error = "cannot store the node id in the data directory";
    return std::nullopt;
  }
  return id;
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("quotad");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = app::parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (parsed.exit_code) {
    (*parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
    return *parsed.exit_code;
  }
  const auto& opts = parsed.opts;

  // Signals are taken by sigwait below; every thread started from here on
  // inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  setup_logging(opts.log_level);

  service::node_clock clock{opts.testing_clock};
  if (opts.testing_clock)
    spdlog::warn("the testing clock is enabled: time stands still until set; never use this in production");

  std::error_code ec;
  std::filesystem::create_directories(opts.data_dir, ec);
  if (ec) {
    std::cerr << "quotad: --data-dir: cannot create '" << opts.data_dir << "': " << ec.message() << "\n";
    return 2;
  }

  storage::options store_opts;
  store_opts.dir = opts.data_dir;
  store_opts.sync_writes = opts.sync_writes;
  store_opts.now = [&clock] { return clock.now_epoch(); };
  std::string error;
  auto db = storage::database::open(store_opts, error);
  if (!db) {
    std::cerr << "quotad: cannot open the data directory '" << opts.data_dir << "': " << error << "\n";
    return 1;
  }
  auto node_id = settle_node_id(*db, opts.node_id, error);
  if (!node_id) {
    std::cerr << "quotad: " << error << "\n";
    return 2;
  }

  actors::node_options node_opts;
  node_opts.node_id = *node_id;
  node_opts.http_address = opts.http.text();
  node_opts.cluster_address = opts.cluster.text();
  node_opts.cluster_host = opts.cluster.host;
  node_opts.cluster_port = opts.cluster.port;
  for (const auto& seed : opts.seeds)
    node_opts.seeds.push_back(seed.text());
  // POST /v1/cluster:leave takes the same way out as SIGTERM.
  node_opts.on_leave_request = [] { ::kill(::getpid(), SIGTERM); };
  node_opts.settings.idle_timeout = std::chrono::seconds{opts.actor_idle_seconds};
  node_opts.settings.idempotency_retention = opts.idempotency_retention;
  node_opts.settings.exact_ledger_seconds = opts.exact_ledger_days * 86400;
  node_opts.scheduler_threads = static_cast<std::size_t>(opts.scheduler_threads);
  auto node = std::make_unique<actors::node>(*db, clock, node_opts);
  if (!node->start(error)) {
    std::cerr << "quotad: --cluster: cannot listen on " << opts.cluster.text()
              << " (in use, or not an address of this host): " << error << "\n";
    node->stop();
    return 1;
  }

  http::server_options http_opts;
  http_opts.host = opts.http.host;
  http_opts.port = opts.http.port;
  http_opts.threads = opts.http_threads;
  http_opts.body_limit = opts.body_limit;
  http_opts.admin_token = opts.admin_token;
  http_opts.gateway_token = opts.gateway_token;
  http_opts.client_id_header = opts.client_id_header;
  http_opts.deny_status = opts.deny_status;
  http_opts.default_time_zone = opts.time_zone;
  http::server front_door{http_opts, *node, clock};
  if (!front_door.start(error)) {
    std::cerr << "quotad: --" << error << "\n";
    node->stop();
    return 1;
  }
  spdlog::info("node {} serving HTTP on {}:{}, data in {}", *node_id, opts.http.host,
               front_door.port(), opts.data_dir);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("signal {}: stopping", signal);

  // Hand the clients on (in a cluster), stop accepting, let the actors
  // finish their writes, flush, exit 0.
  node->leave(std::chrono::seconds{60});
  front_door.stop();
  node->stop();
  node.reset();
  db.reset();
  spdlog::info("stopped");
  return 0;
}
