// The router as a pure function: request in, response out, no sockets.
// The service behind it is a test double that records what it is asked and
// answers fixed results; the real node is tested end to end elsewhere.
#include <gtest/gtest.h>

#include <thread>

#include <boost/json/parse.hpp>

#include "http/router.hpp"

namespace quotad::http {
namespace {

namespace bhttp = boost::beast::http;
using domain::micro_per_credit;
using service::outcome;

class recording_service : public service::quota_service {
 public:
  // What was asked.
  std::vector<std::string> calls;
  std::string last_client;
  std::vector<domain::definition> last_defs;
  service::debit_request last_debit;
  std::vector<service::debit_request> last_batch;
  service::usage_query last_usage;
  std::optional<std::int64_t> last_from, last_to;
  std::string last_import_id;
  std::vector<service::usage_record> last_records;

  // What to answer.
  service::client_result client_answer;
  service::debit_result debit_answer;
  std::vector<service::debit_result> batch_answer;
  service::usage_result usage_answer;
  bool is_ready = true;

  // When set, debit callbacks are kept for the test to run later.
  bool defer = false;
  std::vector<std::function<void()>> deferred;

  void set_quotas(std::string id, std::vector<domain::definition> defs,
                  service::reply<service::client_result> done) override {
    calls.push_back("set_quotas");
    last_client = std::move(id);
    last_defs = std::move(defs);
    done(client_answer);
  }
  void get_quotas(std::string id, service::reply<service::client_result> done) override {
    calls.push_back("get_quotas");
    last_client = std::move(id);
    done(client_answer);
  }
  void delete_client(std::string id, service::reply<service::client_result> done) override {
    calls.push_back("delete_client");
    last_client = std::move(id);
    done(client_answer);
  }
  void debit(service::debit_request req, service::reply<service::debit_result> done) override {
    calls.push_back("debit");
    last_debit = std::move(req);
    if (defer) {
      deferred.push_back([done, answer = debit_answer] { done(answer); });
      return;
    }
    done(debit_answer);
  }
  void debit_batch(std::vector<service::debit_request> reqs,
                   service::reply<std::vector<service::debit_result>> done) override {
    calls.push_back("debit_batch");
    last_batch = std::move(reqs);
    done(batch_answer);
  }
  void usage(service::usage_query q, service::reply<service::usage_result> done) override {
    calls.push_back("usage");
    last_usage = std::move(q);
    done(usage_answer);
  }
  void delete_usage(std::string id, std::optional<std::int64_t> from, std::optional<std::int64_t> to,
                    service::reply<service::client_result> done) override {
    calls.push_back("delete_usage");
    last_client = std::move(id);
    last_from = from;
    last_to = to;
    done(client_answer);
  }
  void import_usage(std::string id, std::string import_id, std::vector<service::usage_record> records,
                    service::reply<service::client_result> done) override {
    calls.push_back("import_usage");
    last_client = std::move(id);
    last_import_id = std::move(import_id);
    last_records = std::move(records);
    done(client_answer);
  }
  void remove_member(std::string node_id, service::reply<service::outcome> done) override {
    calls.push_back("remove_member");
    last_client = std::move(node_id);
    done(member_answer);
  }
  service::outcome member_answer = service::outcome::ok;
  void leave_cluster() override { calls.push_back("leave_cluster"); }
  bool ready() const override { return is_ready; }
  std::string node_id() const override { return "node-a"; }
  service::cluster_info cluster() const override {
    return {"node-a", 3, {{"node-\"b", "127.0.0.1:1", "127.0.0.1:2", "leaving"}}};
  }
  void append_metrics(std::string& out) const override { out += "quotad_actors_alive 7\n"; }
};

domain::quota day_quota(domain::micro_credits limit, domain::micro_credits used) {
  domain::quota q;
  q.def.dur = domain::duration::day;
  q.def.limit = limit;
  q.def.start = domain::anchor::make(domain::from_epoch(1'640'995'200), domain::find_zone("UTC"));
  q.current = {domain::from_epoch(1'796'083'200), domain::from_epoch(1'796'169'600)};
  q.used = used;
  return q;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() { make_router({}); }

  void make_router(server_options options, bool testing_clock = false) {
    clock = std::make_unique<service::node_clock>(testing_clock);
    routes = std::make_unique<router>(svc, *clock, std::move(options));
  }

  response call(bhttp::verb method, std::string target, std::string body = {},
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    request req{method, target, 11};
    for (auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    req.prepare_payload();
    std::optional<response> answer;
    routes->handle(req, [&](response res) { answer = std::move(res); });
    if (!answer) {
      ADD_FAILURE() << "no synchronous answer for " << target;
      return response{};
    }
    return std::move(*answer);
  }

  static boost::json::value json_of(const response& res) { return boost::json::parse(res.body()); }

  // The problem document's shape and content.
  static void expect_problem(const response& res, unsigned status, std::string_view slug, std::string_view field = {}) {
    EXPECT_EQ(res.result_int(), status);
    EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");
    auto doc = json_of(res);
    EXPECT_EQ(doc.at("type").as_string(), "https://quotad.dev/problems/" + std::string(slug));
    EXPECT_FALSE(doc.at("title").as_string().empty());
    EXPECT_EQ(doc.at("status").as_int64(), status);
    EXPECT_FALSE(doc.at("detail").as_string().empty());
    if (!field.empty()) EXPECT_EQ(doc.at("field").as_string(), field);
    else EXPECT_EQ(doc.as_object().if_contains("field"), nullptr);
  }

  recording_service svc;
  std::unique_ptr<service::node_clock> clock;
  std::unique_ptr<router> routes;
};

// --- routing -------------------------------------------------------------------

TEST_F(RouterTest, Healthz) {
  auto res = call(bhttp::verb::get, "/healthz");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"status":"ok"})");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res[bhttp::field::server], "quotad");
  EXPECT_EQ(res[bhttp::field::content_length], "15");
}

TEST_F(RouterTest, Readyz) {
  EXPECT_EQ(call(bhttp::verb::get, "/readyz").result_int(), 200);
  svc.is_ready = false;
  auto res = call(bhttp::verb::get, "/readyz");
  expect_problem(res, 503, "unavailable");
}

TEST_F(RouterTest, Cluster) {
  auto res = call(bhttp::verb::get, "/v1/cluster");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"node_id":"node-a","epoch":3,"members":[{"node_id":"node-\"b",)"
                        R"("http":"127.0.0.1:1","cluster":"127.0.0.1:2","state":"leaving"}]})");
}

TEST_F(RouterTest, RemovingAMemberNeedsTheAdminTokenAndNamesTheMember) {
  server_options o;
  o.admin_token = "secret";
  make_router(o);
  auto res = call(bhttp::verb::delete_, "/v1/cluster/members/node-b");
  expect_problem(res, 401, "unauthorized");
  EXPECT_TRUE(svc.calls.empty());
  std::vector<std::pair<std::string, std::string>> admin{{"Authorization", "Bearer secret"}};
  res = call(bhttp::verb::delete_, "/v1/cluster/members/node-b", {}, admin);
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(svc.last_client, "node-b");
  svc.member_answer = service::outcome::unknown_client;
  expect_problem(call(bhttp::verb::delete_, "/v1/cluster/members/nobody", {}, admin), 404, "not-found");
  svc.member_answer = service::outcome::conflict;
  expect_problem(call(bhttp::verb::delete_, "/v1/cluster/members/node-a", {}, admin), 409, "conflict");
  svc.member_answer = service::outcome::unavailable;
  expect_problem(call(bhttp::verb::delete_, "/v1/cluster/members/node-c", {}, admin), 503, "unavailable");
  expect_problem(call(bhttp::verb::delete_, "/v1/cluster/members/", {}, admin), 400, "invalid-request",
                 "node_id");
  auto wrong = call(bhttp::verb::get, "/v1/cluster/members/node-b", {}, admin);
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(wrong[bhttp::field::allow], "DELETE");
}

TEST_F(RouterTest, LeavingIsAnAdminCallAnsweredAtOnce) {
  server_options o;
  o.admin_token = "secret";
  make_router(o);
  expect_problem(call(bhttp::verb::post, "/v1/cluster:leave"), 401, "unauthorized");
  EXPECT_TRUE(svc.calls.empty());
  auto res = call(bhttp::verb::post, "/v1/cluster:leave", {}, {{"Authorization", "Bearer secret"}});
  EXPECT_EQ(res.result_int(), 202);
  EXPECT_EQ(res.body(), R"({"leaving":true,"node_id":"node-a"})");
  EXPECT_EQ(svc.calls, (std::vector<std::string>{"leave_cluster"}));
  EXPECT_EQ(call(bhttp::verb::get, "/v1/cluster:leave").result_int(), 405);
}

TEST_F(RouterTest, UnknownRoutesAre404Problems) {
  for (std::string target : {"/", "/v2/clients/a/quotas", "/v1/clients/a/quotas/", "/v1/clients/a/usage:export",
                             "/v1/clients/a/b/quotas", "/healthz/x", "/v1/usage", "/v1/testing/clock"}) {
    SCOPED_TRACE(target);
    expect_problem(call(bhttp::verb::get, target), 404, "not-found");
  }
  EXPECT_TRUE(svc.calls.empty());
}

TEST_F(RouterTest, WrongMethodsAre405WithAllow) {
  struct case_ {
    bhttp::verb method;
    std::string target;
    std::string allow;
  };
  for (const case_& c : std::vector<case_>{{bhttp::verb::post, "/healthz", "GET"},
                                           {bhttp::verb::delete_, "/metrics", "GET"},
                                           {bhttp::verb::post, "/v1/clients/a/quotas", "GET, PUT"},
                                           {bhttp::verb::put, "/v1/clients/a/usage", "GET, POST, DELETE"},
                                           {bhttp::verb::get, "/v1/clients/a", "DELETE"},
                                           {bhttp::verb::get, "/v1/clients/a/usage:import", "POST"},
                                           {bhttp::verb::get, "/v1/usage:batch", "POST"}}) {
    SCOPED_TRACE(c.target);
    auto res = call(c.method, c.target);
    expect_problem(res, 405, "method-not-allowed");
    EXPECT_EQ(res[bhttp::field::allow], c.allow);
  }
  EXPECT_TRUE(svc.calls.empty());
}

TEST_F(RouterTest, ClientIdsArePercentDecoded) {
  svc.client_answer.view.client_id = "a/b c";
  auto res = call(bhttp::verb::get, "/v1/clients/a%2Fb%20c/quotas");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(svc.last_client, "a/b c");
  call(bhttp::verb::get, "/v1/clients/%C3%A9t%C3%A9+x/quotas?ignored=1");
  EXPECT_EQ(svc.last_client, "\xC3\xA9t\xC3\xA9+x");
  call(bhttp::verb::get, "/v1/clients/" + std::string(256, 'k') + "/quotas");
  EXPECT_EQ(svc.last_client, std::string(256, 'k'));
}

TEST_F(RouterTest, BadClientIdsAre400NamingClientId) {
  for (std::string target : {"/v1/clients//quotas", "/v1/clients/%zz/quotas", "/v1/clients/%FF/quotas",
                             "/v1/clients/a%/usage", "/v1/clients/%C0%AF/usage"}) {
    SCOPED_TRACE(target);
    expect_problem(call(bhttp::verb::get, target), 400, "invalid-request", "client_id");
  }
  auto res = call(bhttp::verb::get, "/v1/clients/" + std::string(257, 'k') + "/quotas");
  expect_problem(res, 400, "invalid-request", "client_id");
  EXPECT_EQ(json_of(res).at("detail").as_string(), "client_id: must be at most 256 bytes");
  EXPECT_TRUE(svc.calls.empty());
}

// --- quotas --------------------------------------------------------------------

TEST_F(RouterTest, PutQuotasSendsSortedDefinitionsAndAnswersTheStatusDocument) {
  svc.client_answer.view.client_id = "acme";
  svc.client_answer.view.quotas = {day_quota(500 * micro_per_credit, 13 * micro_per_credit)};
  svc.client_answer.view.lowest = 0;
  svc.client_answer.owner = "node-b";
  auto res = call(bhttp::verb::put, "/v1/clients/acme/quotas",
                  R"({"quotas":[{"duration":"MONTH","credit_limit":10000},
                                {"duration":"day","credit_limit":500,"start_date":"2022-01-01T00:00:00"}]})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(svc.calls, std::vector<std::string>{"set_quotas"});
  EXPECT_EQ(svc.last_client, "acme");
  ASSERT_EQ(svc.last_defs.size(), 2u);
  EXPECT_EQ(svc.last_defs[0].dur, domain::duration::day);
  EXPECT_EQ(svc.last_defs[1].dur, domain::duration::month);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res["X-Quotad-Owner"], "node-b");
  auto doc = json_of(res);
  EXPECT_EQ(doc.at("client_id").as_string(), "acme");
  EXPECT_EQ(doc.at("quotas").at(0).at("remaining").as_int64(), 487);
  EXPECT_EQ(doc.at("lowest").at("reset").as_int64(), 1'796'169'600);
}

TEST_F(RouterTest, PutQuotasRejectsBadBodiesWithoutCallingTheService) {
  auto res = call(bhttp::verb::put, "/v1/clients/acme/quotas", "{nope");
  expect_problem(res, 400, "invalid-request", "body");
  EXPECT_EQ(json_of(res).at("detail").as_string(), "body: malformed JSON");
  res = call(bhttp::verb::put, "/v1/clients/acme/quotas",
             R"({"quotas":[{"duration":"DAY","credit_limit":1},{"duration":"DAY","credit_limit":2}]})");
  expect_problem(res, 400, "invalid-request", "quotas[1].duration");
  res = call(bhttp::verb::put, "/v1/clients/acme/quotas",
             R"({"quotas":[{"duration":"DAY","credit_limit":1,"time_zone":"Nowhere/Land"}]})");
  expect_problem(res, 400, "invalid-request", "quotas[0].time_zone");
  EXPECT_TRUE(svc.calls.empty());
}

TEST_F(RouterTest, UnknownClientReadsAre404) {
  svc.client_answer.result = outcome::unknown_client;
  svc.client_answer.owner = "node-a";
  auto res = call(bhttp::verb::get, "/v1/clients/ghost/quotas");
  expect_problem(res, 404, "unknown-client");
  EXPECT_EQ(res["X-Quotad-Owner"], "node-a");
}

TEST_F(RouterTest, ServiceOutcomesMapToStatuses) {
  svc.client_answer.result = outcome::unavailable;
  auto res = call(bhttp::verb::get, "/v1/clients/a/quotas");
  expect_problem(res, 503, "unavailable");
  EXPECT_EQ(res[bhttp::field::retry_after], "1");
  svc.client_answer.result = outcome::conflict;
  svc.client_answer.detail = "the import conflicts";
  res = call(bhttp::verb::post, "/v1/clients/a/usage:import", R"({"import_id":"i","records":[]})");
  expect_problem(res, 409, "conflict");
  EXPECT_EQ(json_of(res).at("detail").as_string(), "the import conflicts");
}

TEST_F(RouterTest, DeleteClientAnswers204) {
  auto res = call(bhttp::verb::delete_, "/v1/clients/acme");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res.body(), "");
  EXPECT_EQ(res.count(bhttp::field::content_length), 0u);
  EXPECT_EQ(svc.calls, std::vector<std::string>{"delete_client"});
  EXPECT_EQ(svc.last_client, "acme");
  svc.client_answer.result = outcome::unknown_client;
  EXPECT_EQ(call(bhttp::verb::delete_, "/v1/clients/acme").result_int(), 204);
}

// --- debits ----------------------------------------------------------------------

service::debit_result allowed_result() {
  service::debit_result r;
  r.result = outcome::ok;
  r.credits = 5 * micro_per_credit;
  r.has_quota = true;
  r.remaining = 487 * micro_per_credit;
  r.reset = 1'796'169'600;
  r.now = domain::from_epoch(1'796'166'000);
  r.quotas = {day_quota(500 * micro_per_credit, 13 * micro_per_credit)};
  r.owner = "node-a";
  return r;
}

TEST_F(RouterTest, DebitAllowed) {
  svc.debit_answer = allowed_result();
  auto res = call(bhttp::verb::post, "/v1/clients/acme/usage", R"({"credits":5,"idempotency_key":"k1"})");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"allowed":true,"credits":5,"remaining":487,"reset":1796169600})");
  EXPECT_EQ(res["X-RateLimit-Remaining"], "487");
  EXPECT_EQ(res["X-RateLimit-Reset"], "1796169600");
  EXPECT_EQ(res["RateLimit-Policy"], R"("day";q=500;w=86400)");
  EXPECT_EQ(res["RateLimit"], R"("day";r=487;t=3600)");
  EXPECT_EQ(res["X-Quotad-Owner"], "node-a");
  EXPECT_EQ(res.count("Idempotent-Replayed"), 0u);
  EXPECT_EQ(res.count(bhttp::field::retry_after), 0u);
  EXPECT_EQ(svc.last_debit.client_id, "acme");
  EXPECT_EQ(svc.last_debit.credits, 5 * micro_per_credit);
  EXPECT_EQ(svc.last_debit.idempotency_key, "k1");
  EXPECT_FALSE(svc.last_debit.dry_run);
  EXPECT_TRUE(svc.last_debit.want_quotas);
  EXPECT_EQ(routes->stats().debits(debit_outcome::allowed), 1u);
}

TEST_F(RouterTest, DebitWithoutBodyIsOneCredit) {
  svc.debit_answer = allowed_result();
  call(bhttp::verb::post, "/v1/clients/acme/usage");
  EXPECT_EQ(svc.last_debit.credits, micro_per_credit);
  EXPECT_EQ(svc.last_debit.idempotency_key, "");
}

TEST_F(RouterTest, DebitIdempotencyKeyFromHeaderUnlessTheBodyNamesOne) {
  svc.debit_answer = allowed_result();
  svc.debit_answer.replayed = true;
  auto res = call(bhttp::verb::post, "/v1/clients/acme/usage", "", {{"Idempotency-Key", "from-header"}});
  EXPECT_EQ(svc.last_debit.idempotency_key, "from-header");
  EXPECT_EQ(res["Idempotent-Replayed"], "true");
  call(bhttp::verb::post, "/v1/clients/acme/usage", R"({"idempotency_key":"from-body","dry_run":true})",
       {{"Idempotency-Key", "from-header"}});
  EXPECT_EQ(svc.last_debit.idempotency_key, "from-body");
  EXPECT_TRUE(svc.last_debit.dry_run);
  res = call(bhttp::verb::post, "/v1/clients/acme/usage", "", {{"Idempotency-Key", std::string(300, 'k')}});
  expect_problem(res, 400, "invalid-request", "Idempotency-Key");
}

TEST_F(RouterTest, DebitForAClientWithAnEmptyListHasNoRateLimitHeaders) {
  service::debit_result r;
  r.credits = micro_per_credit;
  svc.debit_answer = r;
  auto res = call(bhttp::verb::post, "/v1/clients/free/usage");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"allowed":true,"credits":1,"remaining":null,"reset":null})");
  for (std::string_view name : {"X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit"})
    EXPECT_EQ(res.count(name), 0u) << name;
}

TEST_F(RouterTest, DebitRefused) {
  service::debit_result r = allowed_result();
  r.result = outcome::refused;
  r.credits = 0;
  r.remaining = 2 * micro_per_credit;
  r.reset = 1'796'342'400;
  r.retry_after = 7'200;
  r.violated = 0b1;
  svc.debit_answer = r;
  auto res = call(bhttp::verb::post, "/v1/clients/acme/usage", R"({"credits":5})");
  expect_problem(res, 429, "quota-exceeded");
  auto doc = json_of(res);
  EXPECT_EQ(doc.at("detail").as_string(),
            "You have only 2 credits remaining, but 5 are required. They will renew at 2026-12-04 00:00:00");
  EXPECT_EQ(doc.at("quota_remaining").as_int64(), 2);
  EXPECT_EQ(doc.at("quota_renew").as_string(), "2026-12-04T00:00:00Z");
  EXPECT_EQ(doc.at("violated").at(0).as_string(), "DAY");
  EXPECT_EQ(res[bhttp::field::retry_after], "7200");
  EXPECT_EQ(res["X-RateLimit-Remaining"], "2");
  EXPECT_EQ(res["X-RateLimit-Reset"], "1796342400");
  EXPECT_EQ(res["RateLimit"], R"("day";r=2;t=176400)");
  EXPECT_EQ(routes->stats().debits(debit_outcome::refused), 1u);
}

TEST_F(RouterTest, DebitUnknownClientIs403) {
  svc.debit_answer.result = outcome::unknown_client;
  auto res = call(bhttp::verb::post, "/v1/clients/ghost/usage");
  expect_problem(res, 403, "no-quota");
  EXPECT_EQ(json_of(res).at("detail").as_string(), "You do not have any available quota");
  EXPECT_EQ(routes->stats().debits(debit_outcome::unknown_client), 1u);
}

TEST_F(RouterTest, DebitUnavailableIs503WithRetryAfter) {
  svc.debit_answer.result = outcome::unavailable;
  svc.debit_answer.detail = "owner node-c is down";
  auto res = call(bhttp::verb::post, "/v1/clients/acme/usage");
  expect_problem(res, 503, "unavailable");
  EXPECT_EQ(res[bhttp::field::retry_after], "1");
  EXPECT_EQ(json_of(res).at("detail").as_string(), "owner node-c is down");
  EXPECT_EQ(routes->stats().debits(debit_outcome::unavailable), 1u);
}

TEST_F(RouterTest, DebitBodyErrorsNameTheField) {
  expect_problem(call(bhttp::verb::post, "/v1/clients/acme/usage", R"({"credits":"x"})"), 400, "invalid-request",
                 "credits");
  expect_problem(call(bhttp::verb::post, "/v1/clients/acme/usage", R"({"dry_run":1})"), 400, "invalid-request",
                 "dry_run");
  EXPECT_TRUE(svc.calls.empty());
}

TEST_F(RouterTest, AnswersMayArriveLaterOnAnotherThread) {
  svc.defer = true;
  svc.debit_answer = allowed_result();
  std::optional<response> answer;
  {
    request req{bhttp::verb::post, "/v1/clients/acme/usage", 11};
    req.body() = R"({"credits":5})";
    req.prepare_payload();
    routes->handle(req, [&](response res) { answer = std::move(res); });
  }  // the request is gone before the service answers
  EXPECT_FALSE(answer);
  ASSERT_EQ(svc.deferred.size(), 1u);
  std::thread([&] { svc.deferred[0](); }).join();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_EQ(svc.last_debit.client_id, "acme");
}

// --- authorize -----------------------------------------------------------------------

TEST_F(RouterTest, AuthorizeAllowedAnswersWithAnEmptyBodyAndHeaders) {
  svc.debit_answer = allowed_result();
  for (auto method : {bhttp::verb::get, bhttp::verb::post, bhttp::verb::delete_}) {
    auto res = call(method, "/v1/authorize", "ignored", {{"X-Client-Id", "acme"}, {"X-Quota-Credits", "2.5"}});
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "");
    EXPECT_EQ(res[bhttp::field::content_length], "0");
    EXPECT_EQ(res["X-RateLimit-Remaining"], "487");
    EXPECT_EQ(res["RateLimit"], R"("day";r=487;t=3600)");
    EXPECT_EQ(svc.last_debit.client_id, "acme");
    EXPECT_EQ(svc.last_debit.credits, 2'500'000);
  }
}

TEST_F(RouterTest, AuthorizeAcceptsTheOriginalPathAfterThePrefix) {
  svc.debit_answer = allowed_result();
  auto res = call(bhttp::verb::get, "/v1/authorize/api/fetch-data?x=1", "", {{"X-Client-Id", "acme"}});
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(svc.last_debit.client_id, "acme");
  EXPECT_EQ(routes->stats().requests(route::authorize, 200), 1u);
  expect_problem(call(bhttp::verb::get, "/v1/authorizex", "", {{"X-Client-Id", "acme"}}), 404, "not-found");
}

TEST_F(RouterTest, AuthorizeRefusalUsesTheDenyStatus) {
  service::debit_result r = allowed_result();
  r.result = outcome::refused;
  r.retry_after = 60;
  r.violated = 1;
  svc.debit_answer = r;
  auto res = call(bhttp::verb::get, "/v1/authorize", "", {{"X-Client-Id", "acme"}});
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(res.body(), "");
  EXPECT_EQ(res[bhttp::field::retry_after], "60");
  EXPECT_EQ(svc.last_debit.credits, micro_per_credit);

  res = call(bhttp::verb::get, "/v1/authorize?deny_status=403", "", {{"X-Client-Id", "acme"}});
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_EQ(res["X-RateLimit-Remaining"], "487");

  server_options o;
  o.deny_status = 402;
  o.client_id_header = "X-Consumer";
  make_router(o);
  res = call(bhttp::verb::get, "/v1/authorize", "", {{"x-consumer", "acme"}});
  EXPECT_EQ(res.result_int(), 402);
}

TEST_F(RouterTest, AuthorizeUnknownClientStays403) {
  svc.debit_answer.result = outcome::unknown_client;
  auto res = call(bhttp::verb::get, "/v1/authorize?deny_status=429", "", {{"X-Client-Id", "ghost"}});
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_EQ(res.body(), "");
}

TEST_F(RouterTest, AuthorizeBadInputs) {
  auto res = call(bhttp::verb::get, "/v1/authorize");
  expect_problem(res, 400, "invalid-request", "X-Client-Id");
  EXPECT_EQ(json_of(res).at("detail").as_string(), "X-Client-Id: header is required");
  expect_problem(call(bhttp::verb::get, "/v1/authorize", "", {{"X-Client-Id", "  "}}), 400, "invalid-request",
                 "X-Client-Id");
  expect_problem(call(bhttp::verb::get, "/v1/authorize", "", {{"X-Client-Id", "a\xFF"}}), 400, "invalid-request",
                 "X-Client-Id");
  expect_problem(call(bhttp::verb::get, "/v1/authorize", "", {{"X-Client-Id", "a"}, {"X-Quota-Credits", "-3"}}), 400,
                 "invalid-request", "X-Quota-Credits");
  for (std::string q : {"500", "200", "4x9", "", "4000"}) {
    SCOPED_TRACE(q);
    expect_problem(call(bhttp::verb::get, "/v1/authorize?deny_status=" + q, "", {{"X-Client-Id", "a"}}), 400,
                   "invalid-request", "deny_status");
  }
  EXPECT_TRUE(svc.calls.empty());
}

TEST_F(RouterTest, AuthorizeHonoursIdempotencyKey) {
  svc.debit_answer = allowed_result();
  call(bhttp::verb::get, "/v1/authorize", "", {{"X-Client-Id", "a"}, {"Idempotency-Key", "req-7"}});
  EXPECT_EQ(svc.last_debit.idempotency_key, "req-7");
}

// --- batch ---------------------------------------------------------------------------

TEST_F(RouterTest, BatchSendsValidItemsOnceAndAnswersInRequestOrder) {
  service::debit_result ok;
  ok.result = outcome::ok;
  ok.credits = 2 * micro_per_credit;
  ok.has_quota = true;
  ok.remaining = 8 * micro_per_credit;
  ok.reset = 100;
  service::debit_result refused;
  refused.result = outcome::refused;
  refused.has_quota = true;
  refused.remaining = 500'000;
  refused.reset = 200;
  refused.retry_after = 30;
  service::debit_result unknown;
  unknown.result = outcome::unknown_client;
  service::debit_result down;
  down.result = outcome::unavailable;
  down.detail = "down";
  svc.batch_answer = {ok, refused, unknown, down};

  auto res = call(bhttp::verb::post, "/v1/usage:batch",
                  R"({"requests":[{"client_id":"a","credits":2},{"client_id":"b","credits":"x"},
                                  {"client_id":"c"},{"client_id":"d","idempotency_key":"k"},{"client_id":"e"}]})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(svc.calls, std::vector<std::string>{"debit_batch"});
  ASSERT_EQ(svc.last_batch.size(), 4u);
  EXPECT_EQ(svc.last_batch[0].client_id, "a");
  EXPECT_EQ(svc.last_batch[0].credits, 2 * micro_per_credit);
  EXPECT_EQ(svc.last_batch[1].client_id, "c");
  EXPECT_EQ(svc.last_batch[2].idempotency_key, "k");
  for (const auto& r : svc.last_batch) EXPECT_FALSE(r.want_quotas);
  EXPECT_EQ(res.body(),
            R"({"results":[)"
            R"({"client_id":"a","status":200,"credits":2,"remaining":8,"reset":100},)"
            R"({"client_id":"b","status":400,"detail":"requests[1].credits: must be a decimal >= 0","field":"requests[1].credits"},)"
            R"({"client_id":"c","status":429,"retry_after":30,"remaining":0.5,"reset":200},)"
            R"({"client_id":"d","status":403,"detail":"You do not have any available quota"},)"
            R"({"client_id":"e","status":503,"detail":"down"}]})");
  EXPECT_EQ(routes->stats().debits(debit_outcome::allowed), 1u);
  EXPECT_EQ(routes->stats().debits(debit_outcome::refused), 1u);
}

TEST_F(RouterTest, BatchWithOnlyBadItemsNeverCallsTheService) {
  auto res = call(bhttp::verb::post, "/v1/usage:batch", R"({"requests":[{"client_id":5}]})");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"results":[{"client_id":null,"status":400,"detail":"requests[0].client_id: must be a string",)"
                        R"("field":"requests[0].client_id"}]})");
  EXPECT_TRUE(svc.calls.empty());
}

TEST_F(RouterTest, BatchBodyErrors) {
  expect_problem(call(bhttp::verb::post, "/v1/usage:batch", "[]"), 400, "invalid-request", "body");
  expect_problem(call(bhttp::verb::post, "/v1/usage:batch", R"({"requests":1})"), 400, "invalid-request", "requests");
  EXPECT_TRUE(svc.calls.empty());
}

// --- usage ledger ------------------------------------------------------------------

TEST_F(RouterTest, UsageQuery) {
  svc.usage_answer.total = 3 * micro_per_credit;
  svc.usage_answer.days = {{1'796'083'200, "2026-12-01", 3 * micro_per_credit}};
  svc.usage_answer.owner = "node-a";
  auto res = call(bhttp::verb::get, "/v1/clients/acme/usage?from=2026-12-01T00%3A00%3A00%2B01%3A00&to=1796169600");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"total":3})");
  EXPECT_EQ(res["X-Quotad-Owner"], "node-a");
  EXPECT_EQ(svc.last_usage.client_id, "acme");
  EXPECT_EQ(svc.last_usage.from, 1'796'079'600);
  EXPECT_EQ(svc.last_usage.to, 1'796'169'600);
  EXPECT_FALSE(svc.last_usage.daily);

  res = call(bhttp::verb::get, "/v1/clients/acme/usage?granularity=day&time_zone=Europe%2FBerlin&from=2026-12-01");
  EXPECT_EQ(res.body(), R"({"total":3,"days":[{"timestamp":1796083200,"date":"2026-12-01","credits":3}]})");
  EXPECT_TRUE(svc.last_usage.daily);
  EXPECT_EQ(svc.last_usage.zone, domain::find_zone("Europe/Berlin"));
  EXPECT_EQ(svc.last_usage.from, 1'796'079'600);  // local midnight in Berlin
  EXPECT_EQ(svc.last_usage.to, std::nullopt);
}

TEST_F(RouterTest, UsageQueryErrors) {
  expect_problem(call(bhttp::verb::get, "/v1/clients/a/usage?from=yesterday"), 400, "invalid-request", "from");
  expect_problem(call(bhttp::verb::get, "/v1/clients/a/usage?to=%zz"), 400, "invalid-request", "to");
  expect_problem(call(bhttp::verb::get, "/v1/clients/a/usage?from=10&to=5"), 400, "invalid-request", "from");
  expect_problem(call(bhttp::verb::get, "/v1/clients/a/usage?granularity=week"), 400, "invalid-request",
                 "granularity");
  expect_problem(call(bhttp::verb::get, "/v1/clients/a/usage?time_zone=Moon"), 400, "invalid-request", "time_zone");
  EXPECT_TRUE(svc.calls.empty());
  svc.usage_answer.result = outcome::unknown_client;
  expect_problem(call(bhttp::verb::get, "/v1/clients/a/usage"), 404, "unknown-client");
}

TEST_F(RouterTest, DeleteUsage) {
  svc.client_answer.view.client_id = "acme";
  auto res = call(bhttp::verb::delete_, "/v1/clients/acme/usage?from=100&to=2026-12-01T00:00:00Z");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"client_id":"acme","quotas":[],"lowest":null})");
  EXPECT_EQ(svc.last_from, 100);
  EXPECT_EQ(svc.last_to, 1'796'083'200);
  call(bhttp::verb::delete_, "/v1/clients/acme/usage");
  EXPECT_EQ(svc.last_from, std::nullopt);
  EXPECT_EQ(svc.last_to, std::nullopt);
}

TEST_F(RouterTest, ImportUsage) {
  auto res = call(bhttp::verb::post, "/v1/clients/acme/usage:import",
                  R"({"import_id":"seed-1","records":[{"timestamp":1700000000,"credits":2.5}]})");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(svc.calls, std::vector<std::string>{"import_usage"});
  EXPECT_EQ(svc.last_import_id, "seed-1");
  ASSERT_EQ(svc.last_records.size(), 1u);
  EXPECT_EQ(svc.last_records[0].at, 1'700'000'000);
  EXPECT_EQ(svc.last_records[0].credits, 2'500'000);
  expect_problem(call(bhttp::verb::post, "/v1/clients/acme/usage:import", R"({"import_id":"i","records":[{"timestamp":1}]})"), 400,
                 "invalid-request", "records[0].credits");
}

// --- access ----------------------------------------------------------------------------

class RouterAccessTest : public RouterTest {
 protected:
  RouterAccessTest() {
    server_options o;
    o.admin_token = "admin-secret";
    o.gateway_token = "gateway-secret";
    make_router(o, true);
    svc.debit_answer = allowed_result();
  }
};

TEST_F(RouterAccessTest, AdminRoutesNeedTheAdminToken) {
  struct case_ {
    bhttp::verb method;
    std::string target;
    std::string body;
  };
  for (const case_& c : std::vector<case_>{
         {bhttp::verb::put, "/v1/clients/a/quotas", R"({"quotas":[]})"},
         {bhttp::verb::delete_, "/v1/clients/a", ""},
         {bhttp::verb::delete_, "/v1/clients/a/usage", ""},
         {bhttp::verb::post, "/v1/clients/a/usage:import", R"({"import_id":"i","records":[]})"},
         {bhttp::verb::put, "/v1/testing/clock", R"({"now":0})"},
         {bhttp::verb::post, "/v1/testing/clock:advance", R"({"seconds":1})"}}) {
    SCOPED_TRACE(c.target);
    const std::size_t calls_before = svc.calls.size();
    auto res = call(c.method, c.target, c.body);
    expect_problem(res, 401, "unauthorized");
    EXPECT_EQ(res[bhttp::field::www_authenticate], "Bearer");
    expect_problem(call(c.method, c.target, c.body, {{"Authorization", "Basic YWRtaW4="}}), 401, "unauthorized");
    expect_problem(call(c.method, c.target, c.body, {{"Authorization", "Bearer wrong"}}), 403, "forbidden");
    expect_problem(call(c.method, c.target, c.body, {{"Authorization", "Bearer admin-secre"}}), 403, "forbidden");
    expect_problem(call(c.method, c.target, c.body, {{"Authorization", "Bearer admin-secrets"}}), 403, "forbidden");
    expect_problem(call(c.method, c.target, c.body, {{"Authorization", "Bearer gateway-secret"}}), 403, "forbidden");
    EXPECT_EQ(svc.calls.size(), calls_before);
    auto ok = call(c.method, c.target, c.body, {{"Authorization", "bearer  admin-secret "}});
    EXPECT_LT(ok.result_int(), 300) << ok.body();
  }
  EXPECT_EQ(svc.calls.size(), 4u);
}

TEST_F(RouterAccessTest, DebitRoutesNeedTheGatewayOrAdminToken) {
  struct case_ {
    bhttp::verb method;
    std::string target;
    std::string body;
  };
  for (const case_& c : std::vector<case_>{{bhttp::verb::post, "/v1/clients/a/usage", ""},
                                           {bhttp::verb::post, "/v1/usage:batch", R"({"requests":[]})"},
                                           {bhttp::verb::get, "/v1/authorize", ""}}) {
    SCOPED_TRACE(c.target);
    std::vector<std::pair<std::string, std::string>> id = {{"X-Client-Id", "a"}};
    expect_problem(call(c.method, c.target, c.body, id), 401, "unauthorized");
    id.emplace_back("Authorization", "Bearer nope");
    expect_problem(call(c.method, c.target, c.body, id), 403, "forbidden");
    id.back().second = "Bearer gateway-secret";
    EXPECT_EQ(call(c.method, c.target, c.body, id).result_int(), 200);
    id.back().second = "Bearer admin-secret";
    EXPECT_EQ(call(c.method, c.target, c.body, id).result_int(), 200);
  }
}

TEST_F(RouterAccessTest, ReadsAreOpen) {
  EXPECT_EQ(call(bhttp::verb::get, "/v1/clients/a/quotas").result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, "/v1/clients/a/usage").result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, "/healthz").result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, "/metrics").result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, "/v1/testing/clock").result_int(), 200);
}

// --- testing clock -------------------------------------------------------------------

TEST_F(RouterTest, TestingClockRoutesAreAbsentWithoutTheTestingClock) {
  expect_problem(call(bhttp::verb::put, "/v1/testing/clock", R"({"now":0})"), 404, "not-found");
  expect_problem(call(bhttp::verb::post, "/v1/testing/clock:advance", R"({"seconds":1})"), 404, "not-found");
  expect_problem(call(bhttp::verb::get, "/v1/testing/clock"), 404, "not-found");
}

TEST_F(RouterTest, TestingClockSetAndAdvance) {
  make_router({}, true);
  auto res = call(bhttp::verb::put, "/v1/testing/clock", R"({"now":"2027-01-31T10:00:00Z"})");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"now":"2027-01-31T10:00:00Z","epoch":1801389600})");
  EXPECT_EQ(clock->now_epoch(), 1'801'389'600);

  res = call(bhttp::verb::post, "/v1/testing/clock:advance", R"({"seconds":86400})");
  EXPECT_EQ(res.body(), R"({"now":"2027-02-01T10:00:00Z","epoch":1801476000})");
  res = call(bhttp::verb::post, "/v1/testing/clock:advance", R"({"seconds":-172800})");
  EXPECT_EQ(res.body(), R"({"now":"2027-01-30T10:00:00Z","epoch":1801303200})");
  res = call(bhttp::verb::get, "/v1/testing/clock");
  EXPECT_EQ(res.body(), R"({"now":"2027-01-30T10:00:00Z","epoch":1801303200})");

  expect_problem(call(bhttp::verb::put, "/v1/testing/clock", R"({"now":"later"})"), 400, "invalid-request", "now");
  expect_problem(call(bhttp::verb::post, "/v1/testing/clock:advance", R"({"seconds":"1"})"), 400, "invalid-request",
                 "seconds");
  expect_problem(call(bhttp::verb::post, "/v1/testing/clock:advance", R"({"seconds":-99000000000})"), 400,
                 "invalid-request", "seconds");
  EXPECT_EQ(clock->now_epoch(), 1'801'303'200);
  auto wrong = call(bhttp::verb::delete_, "/v1/testing/clock");
  expect_problem(wrong, 405, "method-not-allowed");
  EXPECT_EQ(wrong[bhttp::field::allow], "GET, PUT");
}

// --- metrics ---------------------------------------------------------------------------

TEST_F(RouterTest, MetricsCountRoutesByTemplateAndDebitOutcomes) {
  svc.debit_answer = allowed_result();
  call(bhttp::verb::post, "/v1/clients/acme/usage");
  call(bhttp::verb::post, "/v1/clients/other/usage");
  call(bhttp::verb::get, "/nowhere");
  call(bhttp::verb::post, "/healthz");
  EXPECT_EQ(routes->stats().requests(route::client_usage, 200), 2u);
  EXPECT_EQ(routes->stats().requests(route::other, 404), 1u);
  EXPECT_EQ(routes->stats().requests(route::healthz, 405), 1u);

  auto res = call(bhttp::verb::get, "/metrics");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = res.body();
  auto has = [&](std::string_view line) { return text.find(line) != std::string::npos; };
  EXPECT_TRUE(has("quotad_http_requests_total{route=\"/v1/clients/{id}/usage\",status=\"200\"} 2\n"));
  EXPECT_TRUE(has("quotad_http_requests_total{route=\"other\",status=\"404\"} 1\n"));
  EXPECT_TRUE(has("quotad_http_requests_total{route=\"/healthz\",status=\"405\"} 1\n"));
  EXPECT_TRUE(has("quotad_debits_total{outcome=\"allowed\"} 2\n"));
  EXPECT_TRUE(has("quotad_debits_total{outcome=\"refused\"} 0\n"));
  EXPECT_TRUE(has("quotad_http_request_duration_seconds_count{route=\"/v1/clients/{id}/usage\"} 2\n"));
  EXPECT_TRUE(has("quotad_http_request_duration_seconds_bucket{route=\"/v1/clients/{id}/usage\",le=\"+Inf\"} 2\n"));
  EXPECT_TRUE(has("# TYPE quotad_http_request_duration_seconds histogram\n"));
  EXPECT_TRUE(has("quotad_http_open_connections 0\n"));
  EXPECT_FALSE(has("acme"));  // raw paths never become labels
  EXPECT_TRUE(text.ends_with("quotad_actors_alive 7\n"));
}

TEST(RouterOptions, UnknownDefaultZoneIsRejected) {
  recording_service svc;
  service::node_clock clock;
  server_options o;
  o.default_time_zone = "Atlantis/Central";
  EXPECT_THROW(router(svc, clock, o), std::invalid_argument);
}

} // namespace
} // namespace quotad::http
