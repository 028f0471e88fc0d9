#include "http/json_codec.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "http/uri.hpp"

namespace quotad::http {

namespace json = boost::json;

namespace {

// The epoch range of the ISO form (years 0000–9999), as the domain accepts it.
constexpr std::int64_t min_epoch = -62'167'219'200;
constexpr std::int64_t max_epoch = 253'402'300'799;
// A clock step beyond this is certainly a mistake (about 3000 years).
constexpr std::int64_t max_clock_step = 100'000'000'000;

constexpr std::string_view malformed = "malformed JSON";

template <class T>
parsed<T> fail(std::string field, std::string message) {
  parsed<T> p;
  p.error = field_error{std::move(field), std::move(message)};
  return p;
}

template <class T, class U>
parsed<T> forward_error(const parsed<U>& other) {
  parsed<T> p;
  p.error = other.error;
  return p;
}

std::string indexed(std::string_view base, std::size_t i, std::string_view member = {}) {
  std::string s(base);
  s += '[';
  s += std::to_string(i);
  s += ']';
  if (!member.empty()) {
    s += '.';
    s += member;
  }
  return s;
}

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

/// A member that is present and not null.
const json::value* member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

/// A misspelt field ("credit", "dryrun", "timezone") must not be ignored:
/// the request would do something else than its sender meant. The first
/// member not in `known` is the error.
std::optional<field_error> unknown_member(const json::object& o, std::initializer_list<std::string_view> known,
                                          std::string_view prefix = {}) {
  for (const auto& kv : o) {
    bool listed = false;
    for (auto k : known) listed = listed || kv.key() == k;
    if (!listed) return field_error{std::string(prefix) + std::string(kv.key()), "is not a known field"};
  }
  return std::nullopt;
}

/// The body as a JSON object; "body" is the field at fault otherwise.
/// `storage` keeps the document, in its own memory resource.
parsed<const json::object*> as_object(std::string_view body, json::value& storage) {
  boost::system::error_code ec;
  storage = json::parse(body, ec, storage.storage());
  if (ec) return fail<const json::object*>("body", std::string(malformed));
  const json::object* o = storage.if_object();
  if (!o) return fail<const json::object*>("body", "must be a JSON object");
  return {o, std::nullopt};
}

parsed<std::string> optional_string(const json::object& o, std::string_view key, std::string field,
                                    std::size_t max_bytes) {
  const json::value* v = member(o, key);
  if (!v) return {};
  const json::string* s = v->if_string();
  if (!s) return fail<std::string>(std::move(field), "must be a string");
  if (s->size() > max_bytes)
    return fail<std::string>(std::move(field), "must be at most " + std::to_string(max_bytes) + " bytes");
  return {std::string(s->data(), s->size()), std::nullopt};
}

parsed<bool> optional_bool(const json::object& o, std::string_view key, std::string field) {
  const json::value* v = member(o, key);
  if (!v) return {};
  if (!v->is_bool()) return fail<bool>(std::move(field), "must be true or false");
  return {v->get_bool(), std::nullopt};
}

parsed<micro_credits> from_credits(const domain::parsed_credits& p, std::string_view field) {
  if (p.error) return fail<micro_credits>(std::string(field), std::string(domain::describe(*p.error)));
  return {p.value, std::nullopt};
}

bool is_minus_one(const json::value& v) {
  if (v.is_int64()) return v.get_int64() == -1;
  if (v.is_double()) return v.get_double() == -1.0;
  if (const json::string* s = v.if_string()) return trim(*s) == "-1";
  return false;
}

parsed<domain::instant> epoch_value(std::int64_t s, std::string_view field) {
  if (!epoch_in_range(s))
    return fail<domain::instant>(std::string(field), "is out of range (years 0000 to 9999)");
  return {domain::from_epoch(s), std::nullopt};
}

/// Fills a debit request from a batch item or a single debit's members.
std::optional<field_error> read_debit_members(const json::object& o, std::string_view prefix,
                                              micro_credits& credits, std::string& key, bool& dry_run) {
  auto name = [&](std::string_view m) { return std::string(prefix) + std::string(m); };
  if (auto unknown = unknown_member(o, {"client_id", "credits", "idempotency_key", "dry_run"}, prefix))
    return unknown;
  if (const json::value* v = member(o, "credits")) {
    auto c = credits_value(*v, name("credits"));
    if (!c) return c.error;
    credits = c.value;
  }
  auto k = optional_string(o, "idempotency_key", name("idempotency_key"), max_idempotency_key_bytes);
  if (!k) return k.error;
  key = std::move(k.value);
  auto d = optional_bool(o, "dry_run", name("dry_run"));
  if (!d) return d.error;
  dry_run = d.value;
  return std::nullopt;
}

/// -1 for unlimited, else the exact decimal.
void append_amount(std::string& out, micro_credits m) {
  if (m < 0) out += "-1";
  else domain::append_credits(out, m);
}

void append_int(std::string& out, std::int64_t n) {
  char buffer[24];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, n).ptr;
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

void append_iso_string(std::string& out, domain::instant t) {
  out += '"';
  domain::append_iso_utc(out, t);
  out += '"';
}

} // namespace

// --- values --------------------------------------------------------------

bool epoch_in_range(std::int64_t seconds) { return seconds >= min_epoch && seconds <= max_epoch; }

parsed<micro_credits> credits_value(const json::value& v, std::string_view field, bool allow_unlimited) {
  if (allow_unlimited && is_minus_one(v)) return {domain::unlimited, std::nullopt};
  const std::string_view expected =
    allow_unlimited ? "must be -1 (unlimited) or a decimal >= 0" : "must be a decimal >= 0";
  if (v.is_int64()) {
    std::int64_t n = v.get_int64();
    if (n < 0) return fail<micro_credits>(std::string(field), std::string(expected));
    if (n > domain::max_input / domain::micro_per_credit)
      return from_credits({0, domain::credits_error::too_large}, field);
    return {n * domain::micro_per_credit, std::nullopt};
  }
  if (v.is_uint64()) return from_credits({0, domain::credits_error::too_large}, field);
  domain::parsed_credits p;
  if (v.is_double()) {
    p = domain::credits_from_double(v.get_double());
  } else if (const json::string* s = v.if_string()) {
    p = domain::parse_credits(trim(*s));
  } else {
    return fail<micro_credits>(std::string(field), std::string(expected));
  }
  if (p.error == domain::credits_error::negative || p.error == domain::credits_error::not_a_number)
    return fail<micro_credits>(std::string(field), std::string(expected));
  if (p.error == domain::credits_error::too_many_fraction_digits && v.is_double())
    return fail<micro_credits>(std::string(field),
                               "must have at most 6 fractional digits (send long decimals as a string)");
  return from_credits(p, field);
}

parsed<micro_credits> credits_text(std::string_view text, std::string_view field) {
  auto p = domain::parse_credits(trim(text));
  if (p.error == domain::credits_error::negative || p.error == domain::credits_error::not_a_number)
    return fail<micro_credits>(std::string(field), "must be a decimal >= 0");
  return from_credits(p, field);
}

parsed<domain::instant> time_value(const json::value& v, std::string_view field, const date::time_zone* zone) {
  if (const json::string* s = v.if_string()) return time_text(*s, field, zone);
  if (v.is_int64()) return epoch_value(v.get_int64(), field);
  if (v.is_uint64()) return epoch_value(max_epoch + 1, field);
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d) || d < static_cast<double>(min_epoch) || d >= static_cast<double>(max_epoch) + 1)
      return epoch_value(max_epoch + 1, field);
    return epoch_value(static_cast<std::int64_t>(std::floor(d)), field);
  }
  return fail<domain::instant>(std::string(field), "must be an ISO-8601 date-time or epoch seconds");
}

parsed<domain::instant> time_text(std::string_view text, std::string_view field, const date::time_zone* zone) {
  auto t = domain::parse_iso8601(trim(text));
  if (!t) return fail<domain::instant>(std::string(field), "must be an ISO-8601 date-time or epoch seconds");
  return {domain::resolve(*t, zone), std::nullopt};
}

// --- bodies --------------------------------------------------------------

parsed<std::vector<domain::definition>> parse_quotas(std::string_view body, const date::time_zone* default_zone) {
  using result = std::vector<domain::definition>;
  json::value doc;
  auto obj = as_object(body, doc);
  if (!obj) return forward_error<result>(obj);
  if (auto unknown = unknown_member(*obj.value, {"quotas"})) return {{}, unknown};

  const json::value* list = member(*obj.value, "quotas");
  if (!list) return fail<result>("quotas", "is required");
  const json::array* items = list->if_array();
  if (!items) return fail<result>("quotas", "must be an array");
  if (items->size() > domain::max_quotas)
    return fail<result>("quotas", "must hold at most 7 definitions, one per duration");

  result defs;
  defs.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const json::object* item = (*items)[i].if_object();
    if (!item) return fail<result>(indexed("quotas", i), "must be an object");
    if (auto unknown = unknown_member(*item, {"duration", "credit_limit", "start_date", "time_zone"},
                                      indexed("quotas", i) + "."))
      return {{}, unknown};
    domain::definition def;

    const json::value* dur = member(*item, "duration");
    if (!dur) return fail<result>(indexed("quotas", i, "duration"), "is required");
    const json::string* dur_text = dur->if_string();
    auto parsed_dur = dur_text ? domain::parse_duration(*dur_text) : std::nullopt;
    if (!parsed_dur)
      return fail<result>(indexed("quotas", i, "duration"),
                          "must be one of SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, YEAR");
    def.dur = *parsed_dur;

    const date::time_zone* zone = default_zone;
    if (const json::value* tz = member(*item, "time_zone")) {
      const json::string* name = tz->if_string();
      if (!name) return fail<result>(indexed("quotas", i, "time_zone"), "must be a string");
      zone = domain::find_zone(*name);
      if (!zone) return fail<result>(indexed("quotas", i, "time_zone"), "is not a known IANA time zone");
    }

    const json::value* limit = member(*item, "credit_limit");
    if (!limit) return fail<result>(indexed("quotas", i, "credit_limit"), "is required");
    auto parsed_limit = credits_value(*limit, indexed("quotas", i, "credit_limit"), true);
    if (!parsed_limit) return forward_error<result>(parsed_limit);
    def.limit = parsed_limit.value;

    // Without a start date, windows follow the calendar of the zone
    // (days from local midnight, months from the 1st): anchor 1970-01-01T00:00.
    domain::instant start = domain::to_instant(zone, date::local_seconds{});
    if (const json::value* s = member(*item, "start_date")) {
      auto parsed_start = time_value(*s, indexed("quotas", i, "start_date"), zone);
      if (!parsed_start) return forward_error<result>(parsed_start);
      start = parsed_start.value;
    }
    def.start = domain::anchor::make(start, zone);
    defs.push_back(def);
  }

  if (auto err = domain::validate_and_sort(defs))
    return fail<result>(indexed("quotas", err->index, err->field), err->detail);
  return {std::move(defs), std::nullopt};
}

parsed<debit_body> parse_debit(std::string_view body) {
  debit_body out;
  if (trim(body).empty()) return {std::move(out), std::nullopt};
  // Debit bodies are tiny: parse them into a stack buffer, no heap.
  unsigned char buffer[2048];
  json::monotonic_resource resource(buffer, sizeof buffer);
  json::value doc(&resource);
  auto obj = as_object(body, doc);
  if (!obj) return forward_error<debit_body>(obj);
  if (obj.value->contains("client_id"))
    return fail<debit_body>("client_id", "is not a known field (the client is named in the path)");
  if (auto err = read_debit_members(*obj.value, "", out.credits, out.idempotency_key, out.dry_run)) {
    parsed<debit_body> p;
    p.error = std::move(err);
    return p;
  }
  return {std::move(out), std::nullopt};
}

parsed<std::vector<batch_item>> parse_batch(std::string_view body) {
  using result = std::vector<batch_item>;
  json::value doc;
  auto obj = as_object(body, doc);
  if (!obj) return forward_error<result>(obj);
  if (auto unknown = unknown_member(*obj.value, {"requests"})) return {{}, unknown};
  const json::value* list = member(*obj.value, "requests");
  if (!list) return fail<result>("requests", "is required");
  const json::array* items = list->if_array();
  if (!items) return fail<result>("requests", "must be an array");
  if (items->size() > max_batch_items) return fail<result>("requests", "must hold at most 1000 items");

  result out(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    batch_item& b = out[i];
    const json::object* item = (*items)[i].if_object();
    if (!item) {
      b.error = field_error{indexed("requests", i), "must be an object"};
      continue;
    }
    const json::value* id = member(*item, "client_id");
    const json::string* id_text = id ? id->if_string() : nullptr;
    if (!id_text) {
      b.error = field_error{indexed("requests", i, "client_id"), id ? "must be a string" : "is required"};
      continue;
    }
    b.client_id.assign(id_text->data(), id_text->size());
    b.has_client_id = true;
    if (auto problem = client_id_problem(b.client_id)) {
      b.error = field_error{indexed("requests", i, "client_id"), std::string(*problem)};
      continue;
    }
    b.request.client_id = b.client_id;
    b.request.want_quotas = false;
    b.error = read_debit_members(*item, indexed("requests", i) + ".", b.request.credits,
                                 b.request.idempotency_key, b.request.dry_run);
  }
  return {std::move(out), std::nullopt};
}

parsed<import_body> parse_import(std::string_view body, const date::time_zone* default_zone) {
  json::value doc;
  auto obj = as_object(body, doc);
  if (!obj) return forward_error<import_body>(obj);
  if (auto unknown = unknown_member(*obj.value, {"import_id", "records"})) return {{}, unknown};
  import_body out;
  auto id = optional_string(*obj.value, "import_id", "import_id", max_idempotency_key_bytes);
  if (!id) return forward_error<import_body>(id);
  out.import_id = std::move(id.value);
  // The id is what makes a repeated import harmless: it is required.
  if (out.import_id.empty()) return fail<import_body>("import_id", "is required (a non-empty string)");

  const json::value* list = member(*obj.value, "records");
  if (!list) return fail<import_body>("records", "is required");
  const json::array* items = list->if_array();
  if (!items) return fail<import_body>("records", "must be an array");
  if (items->size() > max_import_records) return fail<import_body>("records", "must hold at most 10000 items");

  out.records.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const json::object* item = (*items)[i].if_object();
    if (!item) return fail<import_body>(indexed("records", i), "must be an object");
    if (auto unknown = unknown_member(*item, {"timestamp", "credits"}, indexed("records", i) + "."))
      return {{}, unknown};
    service::usage_record record;
    const json::value* at = member(*item, "timestamp");
    if (!at) return fail<import_body>(indexed("records", i, "timestamp"), "is required");
    auto parsed_at = time_value(*at, indexed("records", i, "timestamp"), default_zone);
    if (!parsed_at) return forward_error<import_body>(parsed_at);
    record.at = domain::to_epoch(parsed_at.value);
    const json::value* credits = member(*item, "credits");
    if (!credits) return fail<import_body>(indexed("records", i, "credits"), "is required");
    auto parsed_credits = credits_value(*credits, indexed("records", i, "credits"));
    if (!parsed_credits) return forward_error<import_body>(parsed_credits);
    record.credits = parsed_credits.value;
    out.records.push_back(record);
  }
  return {std::move(out), std::nullopt};
}

parsed<domain::instant> parse_clock_set(std::string_view body, const date::time_zone* default_zone) {
  json::value doc;
  auto obj = as_object(body, doc);
  if (!obj) return forward_error<domain::instant>(obj);
  if (auto unknown = unknown_member(*obj.value, {"now"})) return {{}, unknown};
  const json::value* now = member(*obj.value, "now");
  if (!now) return fail<domain::instant>("now", "is required");
  return time_value(*now, "now", default_zone);
}

parsed<std::int64_t> parse_clock_advance(std::string_view body) {
  json::value doc;
  auto obj = as_object(body, doc);
  if (!obj) return forward_error<std::int64_t>(obj);
  if (auto unknown = unknown_member(*obj.value, {"seconds"})) return {{}, unknown};
  const json::value* v = member(*obj.value, "seconds");
  if (!v) return fail<std::int64_t>("seconds", "is required");
  std::int64_t seconds = 0;
  if (v->is_int64()) {
    seconds = v->get_int64();
  } else if (v->is_double() && std::isfinite(v->get_double()) && std::trunc(v->get_double()) == v->get_double() &&
             std::fabs(v->get_double()) <= static_cast<double>(max_clock_step)) {
    seconds = static_cast<std::int64_t>(v->get_double());  // 1e5 and friends
  } else if (!v->is_uint64() && !v->is_double()) {
    return fail<std::int64_t>("seconds", "must be an integer");
  } else {
    seconds = max_clock_step + 1;
  }
  if (seconds > max_clock_step || seconds < -max_clock_step)
    return fail<std::int64_t>("seconds", "must be an integer between -100000000000 and 100000000000");
  return {seconds, std::nullopt};
}

// --- writing -------------------------------------------------------------

std::string cluster_body(const service::cluster_info& info) {
  std::string out = "{\"node_id\":";
  append_json_string(out, info.node_id);
  out += ",\"epoch\":" + std::to_string(info.epoch) + ",\"members\":[";
  for (std::size_t i = 0; i < info.members.size(); ++i) {
    const auto& m = info.members[i];
    out += i ? ",{\"node_id\":" : "{\"node_id\":";
    append_json_string(out, m.node_id);
    out += ",\"http\":";
    append_json_string(out, m.http);
    out += ",\"cluster\":";
    append_json_string(out, m.cluster);
    out += ",\"state\":";
    append_json_string(out, m.state);
    out += '}';
  }
  out += "]}";
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_status_document(std::string& out, const service::client_view& view) {
  out += "{\"client_id\":";
  append_json_string(out, view.client_id);
  out += ",\"quotas\":[";
  bool first = true;
  for (const domain::quota& q : view.quotas) {
    if (!first) out += ',';
    first = false;
    out += "{\"duration\":\"";
    out += domain::upper_name(q.def.dur);
    out += "\",\"credit_limit\":";
    append_amount(out, q.def.limit);
    out += ",\"start_date\":";
    append_iso_string(out, q.def.start.at);
    out += ",\"time_zone\":";
    append_json_string(out, q.def.start.zone ? std::string_view(q.def.start.zone->name()) : "UTC");
    out += ",\"used\":";
    domain::append_credits(out, q.used);
    out += ",\"remaining\":";
    append_amount(out, q.remaining());
    out += ",\"window_start\":";
    append_iso_string(out, q.current.start);
    out += ",\"window_end\":";
    append_iso_string(out, q.current.end);
    out += ",\"reset\":";
    append_int(out, domain::to_epoch(q.current.end));
    out += '}';
  }
  out += "],\"lowest\":";
  if (view.lowest && *view.lowest < view.quotas.size()) {
    const domain::quota& q = view.quotas[*view.lowest];
    out += "{\"remaining\":";
    append_amount(out, q.remaining());
    out += ",\"reset\":";
    append_int(out, domain::to_epoch(q.current.end));
    out += '}';
  } else {
    out += "null";
  }
  out += '}';
}

void append_debit_body(std::string& out, const service::debit_result& r) {
  out += "{\"allowed\":true,\"credits\":";
  domain::append_credits(out, r.credits);
  if (r.has_quota) {
    out += ",\"remaining\":";
    append_amount(out, r.remaining);
    out += ",\"reset\":";
    append_int(out, r.reset);
  } else {
    out += ",\"remaining\":null,\"reset\":null";
  }
  out += '}';
}

void append_usage_body(std::string& out, const service::usage_result& r, bool daily) {
  out += "{\"total\":";
  domain::append_credits(out, r.total);
  if (daily) {
    out += ",\"days\":[";
    bool first = true;
    for (const service::day_usage& d : r.days) {
      if (!first) out += ',';
      first = false;
      out += "{\"timestamp\":";
      append_int(out, d.start);
      out += ",\"date\":";
      append_json_string(out, d.date);
      out += ",\"credits\":";
      domain::append_credits(out, d.credits);
      out += '}';
    }
    out += ']';
  }
  out += '}';
}

std::string problem_json(const problem_type& type, unsigned status, std::string_view detail, std::string_view field,
                         std::string_view extra) {
  std::string out;
  out.reserve(128 + detail.size() + extra.size());
  out += "{\"type\":\"";
  out += problem_type_prefix;
  out += type.slug;
  out += "\",\"title\":";
  append_json_string(out, type.title);
  out += ",\"status\":";
  append_int(out, status);
  out += ",\"detail\":";
  append_json_string(out, detail);
  if (!field.empty()) {
    out += ",\"field\":";
    append_json_string(out, field);
  }
  out += extra;
  out += '}';
  return out;
}

std::string refusal_detail(const service::debit_result& r, micro_credits required) {
  std::string out = "You have only ";
  append_amount(out, r.remaining);
  out += " credits remaining, but ";
  domain::append_credits(out, required);
  out += " are required. They will renew at ";
  out += domain::format_seed_time(domain::from_epoch(r.reset));
  return out;
}

std::string refusal_problem(const service::debit_result& r, micro_credits required) {
  std::string extra = ",\"quota_remaining\":";
  append_amount(extra, r.remaining);
  extra += ",\"quota_renew\":";
  append_iso_string(extra, domain::from_epoch(r.reset));
  extra += ",\"violated\":[";
  bool first = true;
  for (std::size_t i = 0; i < r.quotas.size() && i < 8; ++i) {
    if (!(r.violated & (1u << i))) continue;
    if (!first) extra += ',';
    first = false;
    extra += '"';
    extra += domain::upper_name(r.quotas[i].def.dur);
    extra += '"';
  }
  extra += "],\"credits\":";
  domain::append_credits(extra, required);
  extra += ",\"retry_after\":";
  append_int(extra, r.retry_after > 0 ? r.retry_after : 0);
  return problem_json(problems::quota_exceeded, 429, refusal_detail(r, required), {}, extra);
}

std::optional<rate_limit_fields> rate_limit_headers(const service::debit_result& r) {
  if (!r.has_quota) return std::nullopt;
  rate_limit_fields f;
  append_amount(f.remaining, r.remaining);
  append_int(f.reset, r.reset);

  // The quota reported in `RateLimit`: the one remaining/reset describe —
  // among the violated quotas on a refusal, else among all limited ones,
  // the fewest remaining credits, ties to the shorter duration.
  const domain::quota* reported = nullptr;
  for (std::size_t i = 0; i < r.quotas.size(); ++i) {
    const domain::quota& q = r.quotas[i];
    if (!q.def.limited()) continue;
    if (!f.policy.empty()) f.policy += ", ";
    f.policy += '"';
    f.policy += domain::lower_name(q.def.dur);
    f.policy += "\";q=";
    append_int(f.policy, domain::floor_credits(q.def.limit));
    f.policy += ";w=";
    append_int(f.policy, domain::nominal_seconds(q.def.dur));

    bool candidate = r.result != service::outcome::refused || (i < 8 && (r.violated & (1u << i)));
    if (candidate && (!reported || q.remaining() < reported->remaining())) reported = &q;
  }
  if (reported && r.remaining >= 0) {
    f.limit += '"';
    f.limit += domain::lower_name(reported->def.dur);
    f.limit += "\";r=";
    append_int(f.limit, domain::floor_credits(r.remaining));
    f.limit += ";t=";
    std::int64_t t = r.reset - domain::to_epoch(r.now);
    append_int(f.limit, t > 0 ? t : 0);
  }
  return f;
}

} // namespace quotad::http
