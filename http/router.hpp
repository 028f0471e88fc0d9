// Request handling as a function from request to response, without sockets.
//
// `handle` answers through `done`, exactly once: at once for what the front
// door decides itself (routing, access, validation), or later, on whatever
// thread the service replies on. The router keeps nothing of the request
// after `handle` returns, so the caller may reuse it.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/json_codec.hpp"
#include "http/metrics.hpp"
#include "http/options.hpp"
#include "service/clock.hpp"
#include "service/quota_service.hpp"

namespace quotad::http {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;
using responder = std::function<void(response)>;

/// A response with the common headers (`Server`) and a body of `content_type`.
response make_response(unsigned status, std::string body, std::string_view content_type);
/// An `application/problem+json` response.
response make_problem(const problem_type& type, unsigned status, std::string_view detail,
                      std::string_view field = {});

class router {
 public:
  /// Throws std::invalid_argument if `options.default_time_zone` is unknown.
  router(service::quota_service& service, service::node_clock& clock, server_options options);

  void handle(const request& req, responder done);

  const server_options& options() const { return options_; }
  http::metrics& stats() { return metrics_; }
  const http::metrics& stats() const { return metrics_; }

 private:
  struct call;
  enum class access : std::uint8_t { open, gateway, admin };

  /// An answer when access is denied (401/403), or nothing when granted.
  std::optional<response> check_access(const request& req, access level) const;

  void get_quotas(call c, std::string id);
  void put_quotas(call c, std::string id, const request& req);
  void delete_client(call c, std::string id);
  void debit(call c, std::string id, const request& req);
  void authorize(call c, const request& req, std::string_view query);
  void batch(call c, const request& req);
  void get_usage(call c, std::string id, std::string_view query);
  void delete_usage(call c, std::string id, std::string_view query);
  void import_usage(call c, std::string id, const request& req);
  void testing_clock(call c, const request& req, bool advance);
  void metrics_text(call c);

  service::quota_service& service_;
  service::node_clock& clock_;
  server_options options_;
  const date::time_zone* default_zone_;
  http::metrics metrics_;
};

} // namespace quotad::http
