#include "http/router.hpp"

#include <charconv>
#include <stdexcept>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "http/uri.hpp"

namespace quotad::http {

namespace bhttp = boost::beast::http;
using bhttp::field;
using bhttp::verb;
using service::outcome;

namespace {

constexpr std::string_view json_type = "application/json";
constexpr std::string_view problem_content_type = "application/problem+json";
constexpr std::string_view no_quota_detail = "You do not have any available quota";

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// Compares a presented token with a configured one in time that depends
/// only on the presented token's length, never on where they differ nor on
/// the secret's length. `secret` is never empty here.
bool token_equals(std::string_view presented, std::string_view secret) {
  unsigned char diff = presented.size() == secret.size() ? 0 : 1;
  for (std::size_t i = 0; i < presented.size(); ++i)
    diff |= static_cast<unsigned char>(presented[i] ^ secret[i % secret.size()]);
  return diff == 0;
}

/// The token of an `Authorization: Bearer <token>` header.
std::optional<std::string_view> bearer_token(std::string_view header) {
  header = trim(header);
  auto space = header.find(' ');
  if (space == std::string_view::npos || !iequals(header.substr(0, space), "bearer")) return std::nullopt;
  std::string_view token = trim(header.substr(space + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

struct route_match {
  route r = route::other;
  std::string_view id;  // the {id} segment, still percent-encoded
};

route_match match_path(std::string_view path) {
  if (path == "/healthz") return {route::healthz, {}};
  if (path == "/readyz") return {route::readyz, {}};
  if (path == "/metrics") return {route::metrics, {}};
  if (path == "/v1/cluster") return {route::cluster, {}};
  if (path == "/v1/cluster:leave") return {route::cluster_leave, {}};
  if (path.starts_with("/v1/cluster/members/"))
    return {route::cluster_member, path.substr(std::string_view{"/v1/cluster/members/"}.size())};
  // Envoy's ext_authz appends the original path to its prefix.
  if (path == "/v1/authorize" || path.starts_with("/v1/authorize/")) return {route::authorize, {}};
  if (path == "/v1/usage:batch") return {route::usage_batch, {}};
  if (path == "/v1/testing/clock") return {route::testing_clock, {}};
  if (path == "/v1/testing/clock:advance") return {route::testing_clock_advance, {}};

  constexpr std::string_view prefix = "/v1/clients/";
  if (!path.starts_with(prefix)) return {};
  std::string_view rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  std::string_view id = rest.substr(0, slash);
  if (slash == std::string_view::npos) return {route::client, id};
  std::string_view tail = rest.substr(slash + 1);
  // The colon routes are matched whole: "usage:import" is one segment.
  if (tail == "quotas") return {route::client_quotas, id};
  if (tail == "usage") return {route::client_usage, id};
  if (tail == "usage:import") return {route::client_usage_import, id};
  return {};
}

response bad_request(const field_error& e) {
  return make_problem(problems::invalid_request, 400, e.detail(), e.field);
}

response not_found() { return make_problem(problems::not_found, 404, "There is no such route"); }

response method_not_allowed(std::string_view allow) {
  std::string detail = "This route allows ";
  detail += allow;
  auto res = make_problem(problems::method_not_allowed, 405, detail);
  res.set(field::allow, allow);
  return res;
}

response unavailable_response(std::string_view detail) {
  auto res = make_problem(problems::unavailable, 503,
                          detail.empty() ? "The client's owner cannot answer now; nothing was applied" : detail);
  res.set(field::retry_after, "1");
  return res;
}

void set_owner(response& res, const std::string& owner) {
  if (!owner.empty()) res.set("X-Quotad-Owner", owner);
}

parsed<std::string> client_id_from_path(std::string_view raw) {
  parsed<std::string> p;
  auto decoded = percent_decode(raw);
  if (!decoded) {
    p.error = field_error{"client_id", "has a malformed percent-encoding"};
    return p;
  }
  if (auto problem = client_id_problem(*decoded)) {
    p.error = field_error{"client_id", std::string(*problem)};
    return p;
  }
  p.value = std::move(*decoded);
  return p;
}

/// A percent-decoded query parameter; nullopt value when absent.
parsed<std::optional<std::string>> query_value(std::string_view query, std::string_view name) {
  parsed<std::optional<std::string>> p;
  auto raw = query_param(query, name);
  if (!raw) return p;
  auto decoded = percent_decode(*raw);
  if (!decoded || !valid_utf8(*decoded)) {
    p.error = field_error{std::string(name), "has a malformed percent-encoding"};
    return p;
  }
  p.value = std::move(*decoded);
  return p;
}

/// `from` and `to` of the usage routes; local times read in `zone`.
struct time_range {
  std::optional<std::int64_t> from, to;
};
parsed<time_range> parse_range(std::string_view query, const date::time_zone* zone) {
  parsed<time_range> p;
  for (std::string_view name : {"from", "to"}) {
    auto text = query_value(query, name);
    if (!text) {
      p.error = text.error;
      return p;
    }
    if (!text.value || text.value->empty()) continue;
    auto t = time_text(*text.value, name, zone);
    if (!t) {
      p.error = t.error;
      return p;
    }
    (name == "from" ? p.value.from : p.value.to) = domain::to_epoch(t.value);
  }
  if (p.value.from && p.value.to && *p.value.from > *p.value.to)
    p.error = field_error{"from", "must not be after to"};
  return p;
}

/// The Idempotency-Key header, when the body named no key.
std::optional<field_error> header_key(const request& req, std::string& key) {
  if (!key.empty()) return std::nullopt;
  auto it = req.find("Idempotency-Key");
  if (it == req.end()) return std::nullopt;
  std::string_view value = trim(std::string_view(it->value()));
  if (value.size() > max_idempotency_key_bytes)
    return field_error{"Idempotency-Key", "must be at most 256 bytes"};
  key.assign(value);
  return std::nullopt;
}

void add_rate_limit(response& res, const service::debit_result& r) {
  auto f = rate_limit_headers(r);
  if (!f) return;
  res.set("X-RateLimit-Remaining", f->remaining);
  res.set("X-RateLimit-Reset", f->reset);
  if (!f->policy.empty()) res.set("RateLimit-Policy", f->policy);
  if (!f->limit.empty()) res.set("RateLimit", f->limit);
}

/// The answer to a single debit. With `deny_status` (the authorize route)
/// the body is empty and a refusal answers with that status.
response debit_response(const service::debit_result& r, micro_credits required, metrics& stats,
                        std::optional<unsigned> deny_status) {
  const bool bare = deny_status.has_value();
  response res;
  switch (r.result) {
    case outcome::ok: {
      stats.count_debit(debit_outcome::allowed);
      std::string body;
      if (!bare) {
        body.reserve(96);
        append_debit_body(body, r);
      }
      res = make_response(200, std::move(body), bare ? std::string_view{} : json_type);
      add_rate_limit(res, r);
      if (r.replayed) res.set("Idempotent-Replayed", "true");
      break;
    }
    case outcome::refused: {
      stats.count_debit(debit_outcome::refused);
      res = bare ? make_response(*deny_status, {}, {})
                 : make_response(429, refusal_problem(r, required), problem_content_type);
      add_rate_limit(res, r);
      res.set(field::retry_after, std::to_string(r.retry_after > 0 ? r.retry_after : 0));
      break;
    }
    case outcome::unknown_client:
      stats.count_debit(debit_outcome::unknown_client);
      res = bare ? make_response(403, {}, {}) : make_problem(problems::no_quota, 403, no_quota_detail);
      break;
    case outcome::unavailable:
      stats.count_debit(debit_outcome::unavailable);
      res = unavailable_response(r.detail);
      if (bare) {
        res.body().clear();
        res.erase(field::content_type);
        res.prepare_payload();
      }
      break;
    case outcome::conflict:
      res = make_problem(problems::conflict, 409, r.detail);
      break;
  }
  set_owner(res, r.owner);
  return res;
}

/// The answer of a call that reports the status document (or 204).
response client_response(const service::client_result& r, bool no_content) {
  response res;
  switch (r.result) {
    case outcome::ok: {
      if (no_content) {
        res = make_response(204, {}, {});
      } else {
        std::string body;
        body.reserve(256 + 320 * r.view.quotas.size());
        append_status_document(body, r.view);
        res = make_response(200, std::move(body), json_type);
      }
      break;
    }
    case outcome::unknown_client:
      // Deleting a client that is already gone reaches the state asked for.
      res = no_content ? make_response(204, {}, {})
                       : make_problem(problems::unknown_client, 404, "The client has never been given quotas");
      break;
    case outcome::conflict:
      res = make_problem(problems::conflict, 409, r.detail);
      break;
    case outcome::unavailable:
      res = unavailable_response(r.detail);
      break;
    case outcome::refused:
      res = make_problem(problems::internal_error, 500, "Unexpected answer from the node");
      break;
  }
  set_owner(res, r.owner);
  return res;
}

void append_batch_result(std::string& out, const service::debit_result& r, metrics& stats) {
  out += ",\"status\":";
  switch (r.result) {
    case outcome::ok:
      stats.count_debit(debit_outcome::allowed);
      out += "200,\"credits\":";
      domain::append_credits(out, r.credits);
      break;
    case outcome::refused:
      stats.count_debit(debit_outcome::refused);
      out += "429,\"retry_after\":";
      out += std::to_string(r.retry_after > 0 ? r.retry_after : 0);
      break;
    case outcome::unknown_client:
      stats.count_debit(debit_outcome::unknown_client);
      out += "403,\"detail\":";
      append_json_string(out, no_quota_detail);
      return;
    case outcome::unavailable:
      stats.count_debit(debit_outcome::unavailable);
      out += "503,\"detail\":";
      append_json_string(out, r.detail.empty() ? "The client's owner cannot answer now; nothing was applied"
                                               : std::string_view(r.detail));
      return;
    case outcome::conflict:
      out += "409,\"detail\":";
      append_json_string(out, r.detail);
      return;
  }
  if (r.has_quota) {
    out += ",\"remaining\":";
    if (r.remaining < 0) out += "-1";
    else domain::append_credits(out, r.remaining);
    out += ",\"reset\":";
    out += std::to_string(r.reset);
  } else {
    out += ",\"remaining\":null,\"reset\":null";
  }
  if (r.replayed) out += ",\"replayed\":true";
}

response batch_response(const std::vector<batch_item>& items, const std::vector<service::debit_result>& results,
                        metrics& stats) {
  std::string out;
  out.reserve(32 + 96 * items.size());
  out += "{\"results\":[";
  std::size_t next = 0;  // the next service result, in order of the valid items
  for (std::size_t i = 0; i < items.size(); ++i) {
    const batch_item& item = items[i];
    if (i > 0) out += ',';
    out += "{\"client_id\":";
    if (item.has_client_id) append_json_string(out, item.client_id);
    else out += "null";
    if (item.error) {
      out += ",\"status\":400,\"detail\":";
      append_json_string(out, item.error->detail());
      out += ",\"field\":";
      append_json_string(out, item.error->field);
    } else if (next < results.size()) {
      append_batch_result(out, results[next++], stats);
    } else {
      out += ",\"status\":500,\"detail\":\"No answer from the node\"";
    }
    out += '}';
  }
  out += "]}";
  return make_response(200, std::move(out), json_type);
}

std::string clock_body(domain::instant now) {
  std::string out = "{\"now\":\"";
  domain::append_iso_utc(out, now);
  out += "\",\"epoch\":";
  out += std::to_string(domain::to_epoch(now));
  out += '}';
  return out;
}

} // namespace

response make_response(unsigned status, std::string body, std::string_view content_type) {
  response res;
  res.result(status);
  res.version(11);
  res.set(field::server, "quotad");
  if (!content_type.empty()) res.set(field::content_type, content_type);
  res.body() = std::move(body);
  // 204 carries neither a body nor a Content-Length (RFC 9110 §8.6).
  if (status != 204) res.prepare_payload();
  return res;
}

response make_problem(const problem_type& type, unsigned status, std::string_view detail, std::string_view field) {
  return make_response(status, problem_json(type, status, detail, field), problem_content_type);
}

// One request in flight: finishing it records its route, status and latency.
struct router::call {
  router* self;
  route r;
  std::chrono::steady_clock::time_point start;
  responder done;

  void finish(response&& res) {
    self->metrics_.record(r, res.result_int(), std::chrono::steady_clock::now() - start);
    done(std::move(res));
  }
};

router::router(service::quota_service& service, service::node_clock& clock, server_options options)
  : service_(service), clock_(clock), options_(std::move(options)),
    default_zone_(domain::find_zone(options_.default_time_zone)) {
  if (!default_zone_) throw std::invalid_argument("unknown time zone: " + options_.default_time_zone);
}

std::optional<response> router::check_access(const request& req, access level) const {
  const std::string& admin = options_.admin_token;
  const std::string& gateway = options_.gateway_token;
  if (level == access::open) return std::nullopt;
  if (level == access::admin && admin.empty()) return std::nullopt;
  if (level == access::gateway && gateway.empty()) return std::nullopt;

  auto it = req.find(field::authorization);
  auto token = bearer_token(it == req.end() ? std::string_view{} : std::string_view(it->value()));
  if (!token) {
    auto res = make_problem(problems::unauthorized, 401, "This route needs Authorization: Bearer <token>");
    res.set(field::www_authenticate, "Bearer");
    return res;
  }
  // The admin token opens every route; the gateway token only the debits.
  bool granted = !admin.empty() && token_equals(*token, admin);
  if (level == access::gateway) granted = token_equals(*token, gateway) || granted;
  if (!granted) return make_problem(problems::forbidden, 403, "The token does not grant access to this route");
  return std::nullopt;
}

void router::handle(const request& req, responder done) {
  call c{this, route::other, std::chrono::steady_clock::now(), std::move(done)};
  std::string_view target = req.target();
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  route_match m = match_path(path);
  c.r = m.r;
  const verb method = req.method();

  auto require_access = [&](access level) {
    auto denied = check_access(req, level);
    if (denied) c.finish(std::move(*denied));
    return !denied;
  };
  // Decodes the {id} segment; answers 400 and returns nullopt when invalid.
  auto client_id = [&]() -> std::optional<std::string> {
    auto id = client_id_from_path(m.id);
    if (!id) {
      c.finish(bad_request(*id.error));
      return std::nullopt;
    }
    return std::move(id.value);
  };

  switch (m.r) {
    case route::healthz:
      if (method != verb::get) return c.finish(method_not_allowed("GET"));
      return c.finish(make_response(200, "{\"status\":\"ok\"}", json_type));

    case route::readyz:
      if (method != verb::get) return c.finish(method_not_allowed("GET"));
      if (service_.ready()) return c.finish(make_response(200, "{\"status\":\"ready\"}", json_type));
      return c.finish(unavailable_response("The node is not ready"));

    case route::metrics:
      if (method != verb::get) return c.finish(method_not_allowed("GET"));
      return metrics_text(std::move(c));

    case route::cluster:
      if (method != verb::get) return c.finish(method_not_allowed("GET"));
      return c.finish(make_response(200, cluster_body(service_.cluster()), json_type));

    case route::cluster_leave: {
      if (method != verb::post) return c.finish(method_not_allowed("POST"));
      if (!require_access(access::admin)) return;
      service_.leave_cluster();
      std::string body = "{\"leaving\":true,\"node_id\":";
      append_json_string(body, service_.node_id());
      body += '}';
      return c.finish(make_response(202, std::move(body), json_type));
    }

    case route::cluster_member: {
      if (method != verb::delete_) return c.finish(method_not_allowed("DELETE"));
      if (!require_access(access::admin)) return;
      auto node_id = percent_decode(m.id);
      if (!node_id || node_id->empty() || node_id->find('/') != std::string::npos)
        return c.finish(bad_request({"node_id", "must be a member's node id"}));
      return service_.remove_member(*node_id, [c = std::move(c)](service::outcome o) mutable {
        if (o == service::outcome::ok) return c.finish(make_response(204, {}, {}));
        if (o == service::outcome::unknown_client)
          return c.finish(make_problem(problems::not_found, 404, "There is no member with this node id"));
        if (o == service::outcome::conflict)
          return c.finish(make_problem(problems::conflict, 409,
                                       "Only a member that is down can be removed; a running node "
                                       "leaves when stopped with SIGTERM"));
        return c.finish(unavailable_response("The coordinator cannot answer now"));
      });
    }

    case route::authorize:  // any method: gateways forward the original one
      return authorize(std::move(c), req, query);

    case route::usage_batch:
      if (method != verb::post) return c.finish(method_not_allowed("POST"));
      if (!require_access(access::gateway)) return;
      return batch(std::move(c), req);

    case route::testing_clock:
    case route::testing_clock_advance: {
      if (!clock_.testing()) {
        c.r = route::other;  // the routes do not exist
        return c.finish(not_found());
      }
      const bool advance = m.r == route::testing_clock_advance;
      if (advance && method != verb::post) return c.finish(method_not_allowed("POST"));
      if (!advance && method != verb::get && method != verb::put) return c.finish(method_not_allowed("GET, PUT"));
      if (method != verb::get && !require_access(access::admin)) return;
      return testing_clock(std::move(c), req, advance);
    }

    case route::client: {
      if (method != verb::delete_) return c.finish(method_not_allowed("DELETE"));
      if (!require_access(access::admin)) return;
      auto id = client_id();
      if (!id) return;
      return delete_client(std::move(c), std::move(*id));
    }

    case route::client_quotas: {
      if (method != verb::get && method != verb::put) return c.finish(method_not_allowed("GET, PUT"));
      if (method == verb::put && !require_access(access::admin)) return;
      auto id = client_id();
      if (!id) return;
      if (method == verb::get) return get_quotas(std::move(c), std::move(*id));
      return put_quotas(std::move(c), std::move(*id), req);
    }

    case route::client_usage: {
      if (method != verb::get && method != verb::post && method != verb::delete_)
        return c.finish(method_not_allowed("GET, POST, DELETE"));
      if (method == verb::post && !require_access(access::gateway)) return;
      if (method == verb::delete_ && !require_access(access::admin)) return;
      auto id = client_id();
      if (!id) return;
      if (method == verb::post) return debit(std::move(c), std::move(*id), req);
      if (method == verb::get) return get_usage(std::move(c), std::move(*id), query);
      return delete_usage(std::move(c), std::move(*id), query);
    }

    case route::client_usage_import: {
      if (method != verb::post) return c.finish(method_not_allowed("POST"));
      if (!require_access(access::admin)) return;
      auto id = client_id();
      if (!id) return;
      return import_usage(std::move(c), std::move(*id), req);
    }

    case route::other:
      break;
  }
  c.finish(not_found());
}

void router::get_quotas(call c, std::string id) {
  service_.get_quotas(std::move(id), [c = std::move(c)](service::client_result r) mutable {
    c.finish(client_response(r, false));
  });
}

void router::put_quotas(call c, std::string id, const request& req) {
  auto defs = parse_quotas(req.body(), default_zone_);
  if (!defs) return c.finish(bad_request(*defs.error));
  service_.set_quotas(std::move(id), std::move(defs.value), [c = std::move(c)](service::client_result r) mutable {
    c.finish(client_response(r, false));
  });
}

void router::delete_client(call c, std::string id) {
  service_.delete_client(std::move(id), [c = std::move(c)](service::client_result r) mutable {
    c.finish(client_response(r, true));
  });
}

void router::debit(call c, std::string id, const request& req) {
  auto body = parse_debit(req.body());
  if (!body) return c.finish(bad_request(*body.error));
  service::debit_request d;
  d.client_id = std::move(id);
  d.credits = body.value.credits;
  d.idempotency_key = std::move(body.value.idempotency_key);
  d.dry_run = body.value.dry_run;
  if (auto err = header_key(req, d.idempotency_key)) return c.finish(bad_request(*err));
  const micro_credits required = d.credits;
  service_.debit(std::move(d), [c = std::move(c), required](service::debit_result r) mutable {
    c.finish(debit_response(r, required, c.self->metrics_, std::nullopt));
  });
}

void router::authorize(call c, const request& req, std::string_view query) {
  auto denied = check_access(req, access::gateway);
  if (denied) return c.finish(std::move(*denied));

  unsigned deny = options_.deny_status;
  if (auto raw = query_param(query, "deny_status")) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), value);
    if (ec != std::errc{} || end != raw->data() + raw->size() || value < 400 || value > 499)
      return c.finish(bad_request({"deny_status", "must be a 4xx status code"}));
    deny = value;
  }

  const std::string& header = options_.client_id_header;
  auto it = req.find(header);
  std::string_view id = it == req.end() ? std::string_view{} : trim(std::string_view(it->value()));
  if (id.empty()) return c.finish(bad_request({header, "header is required"}));
  if (auto problem = client_id_problem(id)) return c.finish(bad_request({header, std::string(*problem)}));

  service::debit_request d;
  d.client_id.assign(id);
  if (auto credits = req.find("X-Quota-Credits"); credits != req.end()) {
    auto parsed_credits = credits_text(std::string_view(credits->value()), "X-Quota-Credits");
    if (!parsed_credits) return c.finish(bad_request(*parsed_credits.error));
    d.credits = parsed_credits.value;
  }
  if (auto err = header_key(req, d.idempotency_key)) return c.finish(bad_request(*err));
  const micro_credits required = d.credits;
  service_.debit(std::move(d), [c = std::move(c), required, deny](service::debit_result r) mutable {
    c.finish(debit_response(r, required, c.self->metrics_, deny));
  });
}

void router::batch(call c, const request& req) {
  auto items = parse_batch(req.body());
  if (!items) return c.finish(bad_request(*items.error));
  std::vector<service::debit_request> requests;
  requests.reserve(items.value.size());
  for (batch_item& item : items.value)
    if (!item.error) requests.push_back(std::move(item.request));
  if (requests.empty()) return c.finish(batch_response(items.value, {}, metrics_));
  service_.debit_batch(std::move(requests), [c = std::move(c), items = std::move(items.value)](
                                              std::vector<service::debit_result> results) mutable {
    c.finish(batch_response(items, results, c.self->metrics_));
  });
}

void router::get_usage(call c, std::string id, std::string_view query) {
  service::usage_query q;
  q.client_id = std::move(id);
  const date::time_zone* zone = default_zone_;  // for local from/to

  auto zone_name = query_value(query, "time_zone");
  if (!zone_name) return c.finish(bad_request(*zone_name.error));
  if (zone_name.value) {
    q.zone = domain::find_zone(*zone_name.value);
    if (!q.zone) return c.finish(bad_request({"time_zone", "is not a known IANA time zone"}));
    zone = q.zone;
  }
  auto granularity = query_value(query, "granularity");
  if (!granularity) return c.finish(bad_request(*granularity.error));
  if (granularity.value) {
    if (!iequals(*granularity.value, "day")) return c.finish(bad_request({"granularity", "must be day"}));
    q.daily = true;
  }
  auto range = parse_range(query, zone);
  if (!range) return c.finish(bad_request(*range.error));
  q.from = range.value.from;
  q.to = range.value.to;

  const bool daily = q.daily;
  service_.usage(std::move(q), [c = std::move(c), daily](service::usage_result r) mutable {
    response res;
    switch (r.result) {
      case outcome::ok: {
        std::string body;
        append_usage_body(body, r, daily);
        res = make_response(200, std::move(body), json_type);
        break;
      }
      case outcome::unknown_client:
        res = make_problem(problems::unknown_client, 404, "The client has never been given quotas");
        break;
      case outcome::unavailable:
        res = unavailable_response(r.detail);
        break;
      default:
        res = make_problem(problems::internal_error, 500, "Unexpected answer from the node");
    }
    set_owner(res, r.owner);
    c.finish(std::move(res));
  });
}

void router::delete_usage(call c, std::string id, std::string_view query) {
  const date::time_zone* zone = default_zone_;
  auto zone_name = query_value(query, "time_zone");
  if (!zone_name) return c.finish(bad_request(*zone_name.error));
  if (zone_name.value) {
    zone = domain::find_zone(*zone_name.value);
    if (!zone) return c.finish(bad_request({"time_zone", "is not a known IANA time zone"}));
  }
  auto range = parse_range(query, zone);
  if (!range) return c.finish(bad_request(*range.error));
  service_.delete_usage(std::move(id), range.value.from, range.value.to,
                        [c = std::move(c)](service::client_result r) mutable { c.finish(client_response(r, false)); });
}

void router::import_usage(call c, std::string id, const request& req) {
  auto body = parse_import(req.body(), default_zone_);
  if (!body) return c.finish(bad_request(*body.error));
  service_.import_usage(std::move(id), std::move(body.value.import_id), std::move(body.value.records),
                        [c = std::move(c)](service::client_result r) mutable { c.finish(client_response(r, false)); });
}

void router::testing_clock(call c, const request& req, bool advance) {
  if (req.method() == verb::get) return c.finish(make_response(200, clock_body(clock_.now()), json_type));
  if (advance) {
    auto seconds = parse_clock_advance(req.body());
    if (!seconds) return c.finish(bad_request(*seconds.error));
    // The clock must stay within the years the rest of the node can read.
    if (!epoch_in_range(clock_.now_epoch() + seconds.value))
      return c.finish(bad_request({"seconds", "moves the clock beyond the years 0000 to 9999"}));
    clock_.advance(seconds.value);
  } else {
    auto now = parse_clock_set(req.body(), default_zone_);
    if (!now) return c.finish(bad_request(*now.error));
    clock_.set(now.value);
  }
  c.finish(make_response(200, clock_body(clock_.now()), json_type));
}

void router::metrics_text(call c) {
  std::string out;
  out.reserve(8192);
  metrics_.append(out);
  service_.append_metrics(out);
  c.finish(make_response(200, std::move(out), "text/plain; version=0.0.4; charset=utf-8"));
}

} // namespace quotad::http
