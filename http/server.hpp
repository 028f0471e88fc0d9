// The HTTP front door: a listener and one session per connection.
//
// This header includes no Boost.Asio/Beast, so that app/ can include it next
// to CAF headers; the sockets live in server.cpp only.
#pragma once

#include <memory>
#include <string>

#include "http/options.hpp"
#include "service/clock.hpp"
#include "service/quota_service.hpp"

namespace quotad::http {

class metrics;

class server {
 public:
  /// `service` and `clock` must outlive the server; the service must not
  /// call back into a destroyed server (stop this server before the node).
  server(server_options options, service::quota_service& service, service::node_clock& clock);
  ~server();  // stop()s

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Validates the options, binds (address reuse on) and starts the io
  /// threads. On failure returns false with a message that names the cause.
  bool start(std::string& error);

  /// Stops accepting, closes idle connections, lets requests in flight
  /// answer (up to `stop_timeout`), then joins the io threads. Idempotent;
  /// never call it from an io thread.
  void stop();

  /// The bound port (useful with port 0); 0 before start.
  unsigned short port() const;

  const http::metrics& stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace quotad::http
