// The real listener on an ephemeral port, spoken to over a socket.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/metrics.hpp"
#include "http/server.hpp"

namespace quotad::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

// Answers debits from a thread of its own, as a real node does.
class threaded_service : public service::quota_service {
 public:
  ~threaded_service() override {
    std::lock_guard lock(mutex_);
    for (auto& t : threads_) t.join();
  }

  void debit(service::debit_request req, service::reply<service::debit_result> done) override {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([req = std::move(req), done = std::move(done)] {
      service::debit_result r;
      r.credits = req.credits;
      r.owner = "node-t";
      done(r);
    });
  }

  void set_quotas(std::string, std::vector<domain::definition>, service::reply<service::client_result> done) override {
    done({});
  }
  void get_quotas(std::string, service::reply<service::client_result> done) override { done({}); }
  void delete_client(std::string, service::reply<service::client_result> done) override { done({}); }
  void debit_batch(std::vector<service::debit_request>, service::reply<std::vector<service::debit_result>> done) override {
    done({});
  }
  void usage(service::usage_query, service::reply<service::usage_result> done) override { done({}); }
  void delete_usage(std::string, std::optional<std::int64_t>, std::optional<std::int64_t>,
                    service::reply<service::client_result> done) override {
    done({});
  }
  void import_usage(std::string, std::string, std::vector<service::usage_record>,
                    service::reply<service::client_result> done) override {
    done({});
  }
  void remove_member(std::string, service::reply<service::outcome> done) override {
    done(service::outcome::ok);
  }
  void leave_cluster() override {}
  bool ready() const override { return true; }
  std::string node_id() const override { return "node-t"; }
  service::cluster_info cluster() const override { return {}; }
  void append_metrics(std::string&) const override {}

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

using response = bhttp::response<bhttp::string_body>;
using request = bhttp::request<bhttp::string_body>;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_options o;
    o.port = 0;
    o.threads = 2;
    o.body_limit = 1024;
    srv = std::make_unique<server>(o, svc, clock);
    std::string error;
    ASSERT_TRUE(srv->start(error)) << error;
    ASSERT_NE(srv->port(), 0);
  }
  void TearDown() override { srv->stop(); }

  tcp::socket connect() {
    tcp::socket s(ioc);
    s.connect({net::ip::make_address("127.0.0.1"), srv->port()});
    return s;
  }

  static response exchange(tcp::socket& s, beast::flat_buffer& buffer, request req) {
    req.set(bhttp::field::host, "localhost");
    req.prepare_payload();
    bhttp::write(s, req);
    response res;
    bhttp::read(s, buffer, res);
    return res;
  }

  // Whether the server has closed the connection (a read sees the end).
  static bool closed_by_server(tcp::socket& s) {
    char byte;
    beast::error_code ec;
    s.read_some(net::buffer(&byte, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

  net::io_context ioc;
  threaded_service svc;
  service::node_clock clock;
  std::unique_ptr<server> srv;
};

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  auto s = connect();
  beast::flat_buffer buffer;
  auto first = exchange(s, buffer, request{bhttp::verb::get, "/healthz", 11});
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), R"({"status":"ok"})");
  EXPECT_EQ(first[bhttp::field::server], "quotad");
  EXPECT_TRUE(first.keep_alive());

  // Answered from another thread, written back on the connection's strand.
  request debit{bhttp::verb::post, "/v1/clients/acme/usage", 11};
  debit.body() = R"({"credits":2.5})";
  auto second = exchange(s, buffer, std::move(debit));
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_EQ(second.body(), R"({"allowed":true,"credits":2.5,"remaining":null,"reset":null})");
  EXPECT_EQ(second["X-Quotad-Owner"], "node-t");
  EXPECT_TRUE(second.keep_alive());
  EXPECT_EQ(srv->stats().open_connections(), 1);
  EXPECT_EQ(srv->stats().requests(route::client_usage, 200), 1u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto s = connect();
  const std::string two = "POST /v1/clients/a/usage HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"credits\":7}"
                          "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n";
  net::write(s, net::buffer(two));
  beast::flat_buffer buffer;
  response first, second;
  bhttp::read(s, buffer, first);
  bhttp::read(s, buffer, second);
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), R"({"allowed":true,"credits":7,"remaining":null,"reset":null})");
  EXPECT_EQ(second.result_int(), 404);
}

TEST_F(ServerTest, OversizedBodyIs413AndClosesTheConnection) {
  auto s = connect();
  beast::flat_buffer buffer;
  request big{bhttp::verb::post, "/v1/clients/acme/usage", 11};
  big.body() = "{\"credits\":1,\"pad\":\"" + std::string(2000, 'x') + "\"}";
  auto res = exchange(s, buffer, std::move(big));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");
  EXPECT_NE(res.body().find("\"status\":413"), std::string::npos);
  EXPECT_NE(res.body().find("larger than 1024 bytes"), std::string::npos);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(closed_by_server(s));

  // A body within the limit on a fresh connection is fine.
  auto t = connect();
  request small{bhttp::verb::post, "/v1/clients/acme/usage", 11};
  small.body() = "{\"credits\":1,\"idempotency_key\":\"" + std::string(200, 'x') + "\"}" + std::string(700, ' ');
  EXPECT_EQ(exchange(t, buffer, std::move(small)).result_int(), 200);
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  auto s = connect();
  beast::flat_buffer buffer;
  request req{bhttp::verb::get, "/healthz", 11};
  req.keep_alive(false);
  auto res = exchange(s, buffer, std::move(req));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(closed_by_server(s));
}

TEST_F(ServerTest, MalformedRequestIs400) {
  auto s = connect();
  net::write(s, net::buffer(std::string("NOT A REQUEST\r\n\r\n")));
  beast::flat_buffer buffer;
  response res;
  bhttp::read(s, buffer, res);
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");
  EXPECT_TRUE(closed_by_server(s));
}

TEST_F(ServerTest, ExpectContinueGetsAnInterimAnswer) {
  auto s = connect();
  const std::string body = R"({"credits":3})";
  net::write(s, net::buffer("POST /v1/clients/a/usage HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n"));
  net::streambuf interim;
  auto n = net::read_until(s, interim, "\r\n\r\n");
  std::string head(net::buffers_begin(interim.data()), net::buffers_begin(interim.data()) + static_cast<long>(n));
  EXPECT_EQ(head, "HTTP/1.1 100 Continue\r\n\r\n");
  interim.consume(n);
  net::write(s, net::buffer(body));
  beast::flat_buffer buffer;
  response res;
  bhttp::read(s, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"allowed":true,"credits":3,"remaining":null,"reset":null})");
}

TEST_F(ServerTest, StopClosesIdleConnections) {
  auto s = connect();
  beast::flat_buffer buffer;
  EXPECT_EQ(exchange(s, buffer, request{bhttp::verb::get, "/healthz", 11}).result_int(), 200);
  srv->stop();
  EXPECT_TRUE(closed_by_server(s));
  EXPECT_EQ(srv->stats().open_connections(), 0);
  beast::error_code ec;
  tcp::socket late(ioc);
  late.connect({net::ip::make_address("127.0.0.1"), srv->port()}, ec);
  EXPECT_TRUE(ec);  // nobody listens any more
}

TEST_F(ServerTest, A_SecondServerOnTheSamePortFailsToStart) {
  server_options o;
  o.port = srv->port();
  server other(o, svc, clock);
  std::string error;
  EXPECT_FALSE(other.start(error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(srv->port())), std::string::npos) << error;
}

TEST(ServerOptions, BadOptionsAreRejectedAtStart) {
  threaded_service svc;
  service::node_clock clock;
  auto start_error = [&](server_options o) {
    o.port = 0;
    server s(o, svc, clock);
    std::string error;
    EXPECT_FALSE(s.start(error));
    return error;
  };
  server_options zone;
  zone.default_time_zone = "Nowhere/Special";
  EXPECT_EQ(start_error(zone), "time zone: unknown time zone 'Nowhere/Special'");
  server_options deny;
  deny.deny_status = 200;
  EXPECT_EQ(start_error(deny), "http: deny status must be a 4xx status code");
  server_options threads;
  threads.threads = 0;
  EXPECT_EQ(start_error(threads), "http: threads must be at least 1");
  server_options host;
  host.host = "no-such-host.invalid";
  EXPECT_EQ(start_error(host).rfind("http: cannot resolve no-such-host.invalid", 0), 0u);
}

} // namespace
} // namespace quotad::http
