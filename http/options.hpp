// Settings of the HTTP front door. Plain data: app/ fills it from the command
// line and config file, the server and router only read it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace quotad::http {

struct server_options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: an ephemeral port, see server::port()
  int threads = 1;             // io threads
  std::size_t body_limit = 1 << 20;
  /// Waiting for the next request on a connection and reading its header.
  std::chrono::seconds idle_timeout{60};
  /// Reading a request body once its header has arrived.
  std::chrono::seconds read_timeout{30};
  /// Writing one response.
  std::chrono::seconds write_timeout{30};
  /// How long stop() waits for requests in flight before closing anyway.
  std::chrono::seconds stop_timeout{10};
  /// Empty: the routes are open.
  std::string admin_token;
  std::string gateway_token;
  /// Where /v1/authorize finds the client id.
  std::string client_id_header = "X-Client-Id";
  /// Status of a refused /v1/authorize (a 4xx); `?deny_status=` overrides it.
  unsigned deny_status = 429;
  /// For definitions and local times that name no zone.
  std::string default_time_zone = "UTC";
};

} // namespace quotad::http
