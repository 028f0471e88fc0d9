#include "http/server.hpp"

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "http/router.hpp"

namespace quotad::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

namespace {

class session;

// What the listener and its sessions share. Sessions hold it by shared_ptr,
// so the io_context they live on outlives every one of them.
struct shared_state {
  shared_state(int threads, server_options options, service::quota_service& service, service::node_clock& clock)
    : ioc(threads), routes(service, clock, std::move(options)), acceptor(net::make_strand(ioc)) {}

  const server_options& options() const { return routes.options(); }

  net::io_context ioc;
  router routes;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};

  // Live sessions, for stop(); touched on connect and disconnect only.
  std::mutex mutex;
  std::condition_variable all_closed;
  std::list<std::weak_ptr<session>> sessions;
};

// After a refused request whose body was not read: how long and how much to
// read and discard, so that closing does not reset the connection before
// the client has read the answer.
constexpr auto linger_time = std::chrono::seconds(2);
constexpr std::size_t linger_bytes = 4 << 20;

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// One connection. One request at a time: the next read starts only once
// the previous response is written, which also makes pipelining safe.
// Every handler runs on the session's strand.
class session : public std::enable_shared_from_this<session> {
 public:
  session(std::shared_ptr<shared_state> state, tcp::socket&& socket)
    : state_(std::move(state)), stream_(std::move(socket)) {
    state_->routes.stats().connection_opened();
  }

  ~session() {
    state_->routes.stats().connection_closed();
    if (!registered_) return;
    std::lock_guard lock(state_->mutex);
    state_->sessions.erase(entry_);
    if (state_->sessions.empty()) state_->all_closed.notify_all();
  }

  void start() {
    {
      std::lock_guard lock(state_->mutex);
      state_->sessions.push_front(weak_from_this());
      entry_ = state_->sessions.begin();
      registered_ = true;
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->state_->stopping) return self->close();
      self->read_header();
    });
  }

  /// From any thread: close now if idle, else after the answer in flight.
  void request_stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  const server_options& options() const { return state_->options(); }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(options().body_limit);
    stream_.expires_after(options().idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    busy_ = true;
    if (parser_->is_done()) return on_request();
    const auto& fields = parser_->get();
    auto expect = fields.find(bhttp::field::expect);
    if (expect != fields.end() && fields.version() >= 11 && iequals(expect->value(), "100-continue")) {
      // Clients such as curl wait for this before they send a larger body.
      stream_.expires_after(options().write_timeout);
      net::async_write(stream_, net::buffer(continue_line.data(), continue_line.size()),
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(options().read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    on_request();
  }

  void on_request() {
    stream_.expires_never();  // the service may take its time; no I/O is pending
    req_ = parser_->release();
    keep_alive_ = req_.keep_alive();
    version_ = req_.version();
    try {
      state_->routes.handle(req_, [self = shared_from_this()](response res) {
        // The service answers on its own threads: write on the strand.
        net::dispatch(self->stream_.get_executor(),
                      [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
      });
    } catch (const std::exception& e) {
      // A bug, not a client error; the connection stays usable.
      spdlog::error("http: request handling failed: {}", e.what());
      write(make_problem(problems::internal_error, 500, "The request could not be handled"));
    }
  }

  void on_read_error(beast::error_code ec) {
    // Malformed requests get an answer; everything else (end of stream,
    // timeouts, resets, shutdown) just ends the connection.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category())
      return close();
    busy_ = true;
    response res;
    if (ec == bhttp::error::body_limit) {
      res = make_problem(problems::payload_too_large, 413,
                         "The body is larger than " + std::to_string(options().body_limit) + " bytes", "body");
    } else if (ec == bhttp::error::header_limit) {
      res = make_problem(problems::headers_too_large, 431, "The request header is too large");
    } else {
      res = make_problem(problems::invalid_request, 400, "Malformed HTTP request: " + ec.message());
    }
    state_->routes.stats().record(route::other, res.result_int(), std::chrono::nanoseconds{0});
    reject_ = true;  // the rest of the request is unread: answer, then close
    version_ = 11;
    write(std::move(res));
  }

  void write(response&& res) {
    res_ = std::move(res);
    res_.version(version_);
    res_.keep_alive(keep_alive_ && !reject_ && !state_->stopping);
    stream_.expires_after(options().write_timeout);
    bhttp::async_write(stream_, res_, beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    busy_ = false;
    if (ec) return close();
    if (reject_) return linger();
    if (!res_.keep_alive() || state_->stopping) return close();
    res_ = {};  // release the body before waiting for the next request
    read_header();
  }

  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(linger_time);
    drain();
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > linger_bytes) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  std::shared_ptr<shared_state> state_;  // first: destroyed after the stream
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  request req_;
  response res_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;    // a request is being read, handled or answered
  bool reject_ = false;  // answering a request that could not be read
  std::size_t drained_ = 0;
  bool registered_ = false;
  std::list<std::weak_ptr<session>>::iterator entry_;
};

// The accept loop holds the state weakly: a completion still queued when the
// server goes away must not keep the io_context that holds it alive.
void accept(const std::shared_ptr<shared_state>& state) {
  state->acceptor.async_accept(net::make_strand(state->ioc), [weak = std::weak_ptr<shared_state>(state)](
                                                                 beast::error_code ec, tcp::socket socket) {
    auto state = weak.lock();
    if (!state || ec == net::error::operation_aborted || state->stopping) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // small answers must not wait for Nagle
      std::make_shared<session>(state, std::move(socket))->start();
    } else {
      spdlog::warn("http: accept failed: {}", ec.message());
    }
    accept(state);
  });
}

} // namespace

struct server::impl {
  server_options options;
  service::quota_service& service;
  service::node_clock& clock;
  std::shared_ptr<shared_state> state;
  // Keeps the io threads running while the server runs, also between
  // connections and while stop() closes them.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  unsigned short port = 0;
  bool stopped = false;
};

server::server(server_options options, service::quota_service& service, service::node_clock& clock)
  : impl_(new impl{std::move(options), service, clock, nullptr, std::nullopt, {}, 0, false}) {}

server::~server() { stop(); }

bool server::start(std::string& error) {
  impl& s = *impl_;
  if (s.state) {
    error = "http: already started";
    return false;
  }
  const server_options& o = s.options;
  if (o.threads < 1) {
    error = "http: threads must be at least 1";
    return false;
  }
  if (o.deny_status < 400 || o.deny_status > 499) {
    error = "http: deny status must be a 4xx status code";
    return false;
  }
  if (o.body_limit == 0) {
    error = "http: body limit must be positive";
    return false;
  }
  if (!domain::find_zone(o.default_time_zone)) {
    error = "time zone: unknown time zone '" + o.default_time_zone + "'";
    return false;
  }

  auto state = std::make_shared<shared_state>(o.threads, o, s.service, s.clock);
  const std::string where = o.host + ":" + std::to_string(o.port);
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto address = net::ip::make_address(o.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, o.port);
  } else {
    tcp::resolver resolver(state->ioc);
    auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
    if (ec || results.empty()) {
      error = "http: cannot resolve " + o.host + ": " + (ec ? ec.message() : "no address");
      return false;
    }
    endpoint = *results.begin();
  }

  tcp::acceptor& acceptor = state->acceptor;
  auto failed = [&](std::string_view what) {
    error = "http: cannot " + std::string(what) + " " + where + ": " + ec.message();
    return false;
  };
  if (acceptor.open(endpoint.protocol(), ec)) return failed("open a socket for");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) return failed("reuse address");
  if (acceptor.bind(endpoint, ec)) return failed("listen on");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return failed("listen on");
  s.port = acceptor.local_endpoint(ec).port();

  s.state = state;
  s.work.emplace(state->ioc.get_executor());
  accept(state);
  for (int i = 0; i < o.threads; ++i) {
    s.threads.emplace_back([state] {
      for (;;) {
        try {
          state->ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: io thread: {}", e.what());
        }
      }
    });
  }
  return true;
}

void server::stop() {
  impl& s = *impl_;
  if (!s.state || s.stopped) return;
  s.stopped = true;
  shared_state& state = *s.state;
  state.stopping = true;
  // Closed on its strand; waited for, so that the port is free on return.
  std::promise<void> closed;
  net::post(state.acceptor.get_executor(), [&state, &closed] {
    beast::error_code ignored;
    state.acceptor.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();

  // Take strong references under the lock, release them outside it: a
  // session's destructor takes the same lock.
  std::vector<std::shared_ptr<session>> live;
  {
    std::lock_guard lock(state.mutex);
    for (auto& weak : state.sessions)
      if (auto strong = weak.lock()) live.push_back(std::move(strong));
  }
  for (auto& session : live) session->request_stop();
  live.clear();

  {
    std::unique_lock lock(state.mutex);
    state.all_closed.wait_for(lock, s.options.stop_timeout, [&] { return state.sessions.empty(); });
  }
  s.work.reset();
  state.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

unsigned short server::port() const { return impl_->port; }

const http::metrics& server::stats() const {
  static const http::metrics none;
  return impl_->state ? impl_->state->routes.stats() : none;
}

} // namespace quotad::http
