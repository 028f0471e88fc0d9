#include "app/options.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "domain/time.hpp"

namespace quotad::app {

namespace {

/// A bad value: the message names the option.
struct option_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& name, const std::string& why) {
  throw option_error("--" + name + ": " + why);
}

template <class T>
T parse_integer(const std::string& name, const std::string& value, T min, T max) {
  T out{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || end != value.data() + value.size() || out < min || out > max)
    fail(name, "expected an integer between " + std::to_string(min) + " and " + std::to_string(max)
                 + ", got '" + value + "'");
  return out;
}

bool parse_bool(const std::string& name, const std::string& value) {
  if (value.empty() || value == "true" || value == "yes" || value == "on" || value == "1")
    return true;
  if (value == "false" || value == "no" || value == "off" || value == "0")
    return false;
  fail(name, "expected true or false (or yes/no, on/off, 1/0), got '" + value + "'");
}

bool valid_host(const std::string& host) {
  if (host.empty() || host.size() > 253)
    return false;
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':')
      return false;
  return true;
}

endpoint parse_endpoint(const std::string& name, const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0)
    fail(name, "expected HOST:PORT, got '" + value + "'");
  endpoint e;
  e.host = value.substr(0, colon);
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);
  if (!valid_host(e.host))
    fail(name, "expected HOST:PORT, got '" + value + "'");
  e.port = parse_integer<std::uint16_t>(name, value.substr(colon + 1), 0, 65535);
  return e;
}

bool valid_node_id(const std::string& id) {
  if (id.empty() || id.size() > 64)
    return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

/// Applies one `name=value` setting; throws option_error naming it.
void apply(options& o, const std::string& name, const std::string& value) {
  if (name == "config") {
    o.config_file = value;
  } else if (name == "node-id") {
    if (!valid_node_id(value))
      fail(name, "expected 1-64 letters, digits, '-', '_' or '.', got '" + value + "'");
    o.node_id = value;
  } else if (name == "http") {
    o.http = parse_endpoint(name, value);
  } else if (name == "cluster") {
    o.cluster = parse_endpoint(name, value);
  } else if (name == "seeds") {
    o.seeds.clear();
    std::stringstream ss{value};
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty())
        o.seeds.push_back(parse_endpoint(name, item));
  } else if (name == "data-dir") {
    if (value.empty())
      fail(name, "must not be empty");
    o.data_dir = value;
  } else if (name == "time-zone") {
    if (!domain::find_zone(value))
      fail(name, "unknown time zone '" + value + "'");
    o.time_zone = value;
  } else if (name == "admin-token") {
    o.admin_token = value;
  } else if (name == "gateway-token") {
    o.gateway_token = value;
  } else if (name == "testing-clock") {
    o.testing_clock = parse_bool(name, value);
  } else if (name == "log-level") {
    static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    bool ok = false;
    for (auto* l : levels)
      ok = ok || value == l;
    if (!ok)
      fail(name, "expected trace, debug, info, warn, error, critical or off, got '" + value + "'");
    o.log_level = value;
  } else if (name == "http-threads") {
    o.http_threads = parse_integer<int>(name, value, 1, 64);
  } else if (name == "scheduler-threads") {
    o.scheduler_threads = parse_integer<int>(name, value, 1, 64);
  } else if (name == "body-limit") {
    o.body_limit = parse_integer<std::size_t>(name, value, 1024, std::size_t{1} << 30);
  } else if (name == "deny-status") {
    o.deny_status = parse_integer<unsigned>(name, value, 400, 499);
  } else if (name == "client-id-header") {
    if (value.empty())
      fail(name, "must not be empty");
    o.client_id_header = value;
  } else if (name == "sync-writes") {
    o.sync_writes = parse_bool(name, value);
  } else if (name == "actor-idle-seconds") {
    o.actor_idle_seconds = parse_integer<std::int64_t>(name, value, 1, 86400);
  } else if (name == "idempotency-retention") {
    o.idempotency_retention = parse_integer<std::int64_t>(name, value, 1, 366 * 86400);
  } else if (name == "exact-ledger-days") {
    o.exact_ledger_days = parse_integer<std::int64_t>(name, value, 1, 3660);
  } else {
    throw option_error("unknown option --" + name);
  }
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

/// `name = value` lines; `#` starts a comment; values may be quoted.
void apply_config_file(options& o, const std::string& path) {
  std::ifstream in{path};
  if (!in)
    fail("config", "cannot read '" + path + "'");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto text = trim(line.substr(0, line.find('#')));
    if (text.empty())
      continue;
    auto eq = text.find('=');
    if (eq == std::string::npos)
      fail("config", path + ":" + std::to_string(number) + ": expected 'name = value'");
    auto name = trim(text.substr(0, eq));
    auto value = trim(text.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (name == "config")
      fail("config", path + ":" + std::to_string(number) + ": a config file cannot name another");
    try {
      apply(o, name, value);
    } catch (const option_error& e) {
      throw option_error(path + ":" + std::to_string(number) + ": " + e.what());
    }
  }
}

} // namespace

std::string help_text() {
  return R"(Usage: quotad [OPTIONS]

A node of the quotad API quota cluster. With no options: a single node,
HTTP on 127.0.0.1:8080, data in ./data.

Options (also accepted as 'name = value' lines in the config file):
  --config=FILE                 read options from FILE; the command line wins
  --node-id=ID                  node id (default: generated once, kept in the data directory)
  --http=HOST:PORT              HTTP front door (default 127.0.0.1:8080)
  --cluster=HOST:PORT           where other nodes reach this one (default 127.0.0.1:4801)
  --seeds=HOST:PORT,...         cluster addresses of nodes to join through (default: none)
  --data-dir=DIR                data directory (default ./data)
  --time-zone=ZONE              IANA zone for definitions that name none (default UTC)
  --admin-token=T               required for changes and deletes ($QUOTAD_ADMIN_TOKEN)
  --gateway-token=T             required for debits ($QUOTAD_GATEWAY_TOKEN)
  --testing-clock               enable the settable testing clock (never in production)
  --log-level=LEVEL             trace, debug, info, warn, error, critical, off (default info)

Tuning:
  --http-threads=N              HTTP I/O threads (default 2)
  --scheduler-threads=N         actor scheduler threads (default 2)
  --body-limit=BYTES            largest request body (default 1048576)
  --deny-status=CODE            status of a refused /v1/authorize (default 429)
  --client-id-header=NAME       client id header of /v1/authorize (default X-Client-Id)
  --sync-writes                 fsync the write-ahead log on every write cycle
  --actor-idle-seconds=N        an idle client actor retires after N seconds (default 60)
  --idempotency-retention=N     keep idempotency records N seconds (default 86400)
  --exact-ledger-days=N         keep per-second ledger entries N days (default 8)
  --help, --version
)";
}

parse_result parse_options(const std::vector<std::string>& args) {
  parse_result r;
  try {
    if (const char* t = std::getenv("QUOTAD_ADMIN_TOKEN"))
      r.opts.admin_token = t;
    if (const char* t = std::getenv("QUOTAD_GATEWAY_TOKEN"))
      r.opts.gateway_token = t;
    // Split the command line first, so that --config is read before the
    // other options, which then override it.
    std::vector<std::pair<std::string, std::string>> settings;
    for (const auto& arg : args) {
      if (arg == "--help" || arg == "-h") {
        r.exit_code = 0;
        r.message = help_text();
        return r;
      }
      if (arg == "--version") {
        r.exit_code = 0;
        r.message = "quotad 0.1.0\n";
        return r;
      }
      if (arg.rfind("--", 0) != 0)
        throw option_error("unexpected argument '" + arg + "' (options look like --name=value)");
      auto eq = arg.find('=');
      auto name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      auto value = eq == std::string::npos ? std::string{} : arg.substr(eq + 1);
      if (eq == std::string::npos && name != "testing-clock" && name != "sync-writes")
        throw option_error("--" + name + ": expected --" + name + "=VALUE");
      settings.emplace_back(name, value);
    }
    for (const auto& [name, value] : settings)
      if (name == "config")
        apply_config_file(r.opts, value);
    for (const auto& [name, value] : settings)
      apply(r.opts, name, value);
  } catch (const option_error& e) {
    r.exit_code = 2;
    r.message = std::string{"quotad: "} + e.what() + "\n";
  }
  return r;
}

} // namespace quotad::app
