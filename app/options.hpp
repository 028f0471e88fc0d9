// The command line and config file of `quotad` (SPEC §8).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quotad::app {

struct endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

struct options {
  std::string config_file;
  std::string node_id;  // empty: generated on first start
  endpoint http{"127.0.0.1", 8080};
  endpoint cluster{"127.0.0.1", 4801};
  std::vector<endpoint> seeds;
  std::string data_dir = "./data";
  std::string time_zone = "UTC";
  std::string admin_token;
  std::string gateway_token;
  bool testing_clock = false;
  std::string log_level = "info";

  // Tuning, beyond SPEC §8.
  int http_threads = 2;
  int scheduler_threads = 2;
  std::size_t body_limit = 1 << 20;
  unsigned deny_status = 429;
  std::string client_id_header = "X-Client-Id";
  bool sync_writes = false;
  std::int64_t actor_idle_seconds = 60;
  std::int64_t idempotency_retention = 24 * 3600;
  std::int64_t exact_ledger_days = 8;
};

/// What parsing decided: run with `opts`, or exit at once with `exit_code`
/// after printing `message` (help text on stdout, errors on stderr).
struct parse_result {
  options opts;
  std::optional<int> exit_code;
  std::string message;
};

/// Environment first (QUOTAD_ADMIN_TOKEN, QUOTAD_GATEWAY_TOKEN), then the
/// config file, then the command line: the command line wins.
parse_result parse_options(const std::vector<std::string>& args);

std::string help_text();

} // namespace quotad::app
