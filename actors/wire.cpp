#include "actors/wire.hpp"

namespace quotad::actors {

namespace {

std::string zone_name(const date::time_zone* z) {
  return z ? std::string{z->name()} : std::string{"UTC"};
}

} // namespace

wire_quota to_wire(const domain::definition& d) {
  wire_quota w;
  w.dur = static_cast<std::uint8_t>(d.dur);
  w.limit = d.limit;
  w.anchor = domain::to_epoch(d.start.at);
  w.zone = zone_name(d.start.zone);
  return w;
}

wire_quota to_wire(const domain::quota& q) {
  auto w = to_wire(q.def);
  w.start = domain::to_epoch(q.current.start);
  w.end = domain::to_epoch(q.current.end);
  w.used = q.used;
  return w;
}

bool from_wire(const wire_quota& w, domain::definition& out) {
  auto zone = domain::find_zone(w.zone);
  if (!zone || w.dur > static_cast<std::uint8_t>(domain::duration::year))
    return false;
  out.dur = static_cast<domain::duration>(w.dur);
  out.limit = w.limit;
  out.start = domain::anchor::make(domain::from_epoch(w.anchor), zone);
  return true;
}

bool from_wire(const wire_quota& w, domain::quota& out) {
  if (!from_wire(w, out.def))
    return false;
  out.current = {domain::from_epoch(w.start), domain::from_epoch(w.end)};
  out.used = w.used;
  return true;
}

namespace {

std::vector<wire_quota> quotas_to_wire(const std::vector<domain::quota>& qs) {
  std::vector<wire_quota> out;
  out.reserve(qs.size());
  for (const auto& q : qs)
    out.push_back(to_wire(q));
  return out;
}

std::vector<domain::quota> quotas_from_wire(const std::vector<wire_quota>& ws) {
  std::vector<domain::quota> out;
  out.reserve(ws.size());
  for (const auto& w : ws) {
    domain::quota q;
    if (from_wire(w, q))
      out.push_back(q);
  }
  return out;
}

} // namespace

wire_debit_request to_wire(const service::debit_request& r) {
  return {r.client_id, r.credits, r.idempotency_key, r.dry_run, r.want_quotas, 0};
}

service::debit_request from_wire(wire_debit_request w) {
  service::debit_request r;
  r.client_id = std::move(w.client_id);
  r.credits = w.credits;
  r.idempotency_key = std::move(w.idempotency_key);
  r.dry_run = w.dry_run;
  r.want_quotas = w.want_quotas;
  return r;
}

wire_debit_result to_wire(const service::debit_result& r) {
  wire_debit_result w;
  w.result = static_cast<std::uint8_t>(r.result);
  w.credits = r.credits;
  w.has_quota = r.has_quota;
  w.remaining = r.remaining;
  w.reset = r.reset;
  w.retry_after = r.retry_after;
  w.violated = r.violated;
  w.reported = r.reported;
  w.replayed = r.replayed;
  w.quotas = quotas_to_wire(r.quotas);
  w.now = domain::to_epoch(r.now);
  w.detail = r.detail;
  w.owner = r.owner;
  return w;
}

service::debit_result from_wire(wire_debit_result w) {
  service::debit_result r;
  r.result = static_cast<service::outcome>(w.result);
  r.credits = w.credits;
  r.has_quota = w.has_quota;
  r.remaining = w.remaining;
  r.reset = w.reset;
  r.retry_after = w.retry_after;
  r.violated = w.violated;
  r.reported = w.reported;
  r.replayed = w.replayed;
  r.quotas = quotas_from_wire(w.quotas);
  r.now = domain::from_epoch(w.now);
  r.detail = std::move(w.detail);
  r.owner = std::move(w.owner);
  return r;
}

wire_client_result to_wire(const service::client_result& r) {
  wire_client_result w;
  w.result = static_cast<std::uint8_t>(r.result);
  w.client_id = r.view.client_id;
  w.quotas = quotas_to_wire(r.view.quotas);
  w.lowest = r.view.lowest ? static_cast<std::int32_t>(*r.view.lowest) : -1;
  w.now = domain::to_epoch(r.view.now);
  w.detail = r.detail;
  w.owner = r.owner;
  return w;
}

service::client_result from_wire(wire_client_result w) {
  service::client_result r;
  r.result = static_cast<service::outcome>(w.result);
  r.view.client_id = std::move(w.client_id);
  r.view.quotas = quotas_from_wire(w.quotas);
  if (w.lowest >= 0)
    r.view.lowest = static_cast<std::size_t>(w.lowest);
  r.view.now = domain::from_epoch(w.now);
  r.detail = std::move(w.detail);
  r.owner = std::move(w.owner);
  return r;
}

wire_usage_query to_wire(const service::usage_query& q) {
  wire_usage_query w;
  w.client_id = q.client_id;
  w.has_from = q.from.has_value();
  w.from = q.from.value_or(0);
  w.has_to = q.to.has_value();
  w.to = q.to.value_or(0);
  w.daily = q.daily;
  w.zone = zone_name(q.zone);
  return w;
}

service::usage_query from_wire(wire_usage_query w) {
  service::usage_query q;
  q.client_id = std::move(w.client_id);
  if (w.has_from)
    q.from = w.from;
  if (w.has_to)
    q.to = w.to;
  q.daily = w.daily;
  q.zone = domain::find_zone(w.zone);
  return q;
}

wire_usage_result to_wire(const service::usage_result& r) {
  wire_usage_result w;
  w.result = static_cast<std::uint8_t>(r.result);
  w.total = r.total;
  for (const auto& d : r.days)
    w.days.push_back({d.start, d.date, d.credits});
  w.detail = r.detail;
  w.owner = r.owner;
  return w;
}

service::usage_result from_wire(wire_usage_result w) {
  service::usage_result r;
  r.result = static_cast<service::outcome>(w.result);
  r.total = w.total;
  for (auto& d : w.days)
    r.days.push_back({d.start, std::move(d.date), d.credits});
  r.detail = std::move(w.detail);
  r.owner = std::move(w.owner);
  return r;
}

wire_client_state to_wire_state(const std::string& client_id, const storage::client_export& e) {
  wire_client_state w;
  w.client_id = client_id;
  w.known = e.client.has_value();
  if (e.client) {
    for (const auto& d : e.client->definitions)
      w.quotas.push_back(to_wire(d));
    w.rolled_until = e.client->rolled_until;
    for (std::size_t i = 0; i < e.client->windows.size() && i < e.client->used.size(); ++i) {
      w.windows.push_back(domain::to_epoch(e.client->windows[i].start));
      w.windows.push_back(domain::to_epoch(e.client->windows[i].end));
      w.windows.push_back(e.client->used[i]);
    }
  }
  w.ledger = e.ledger;
  for (const auto& [key, a] : e.answers)
    w.answers.push_back({key, {a.credits, a.remaining, a.reset, a.expires}});
  w.imports = e.imports;
  return w;
}

bool adopt_into(const wire_client_state& w, storage::mutation& m) {
  std::vector<domain::definition> defs;
  for (const auto& q : w.quotas) {
    domain::definition d;
    if (!from_wire(q, d))
      return false;
    defs.push_back(d);
  }
  m.delete_client();
  if (w.known) {
    m.put_definitions(defs);
    // The counters move exactly as they were; without them (none were
    // kept) the new owner recomputes them from the ledger on first load.
    if (w.windows.size() == 3 * defs.size() && !defs.empty()) {
      domain::quota_set quotas;
      quotas.assign(defs, domain::from_epoch(w.windows[0]));
      for (std::size_t i = 0; i < defs.size(); ++i)
        quotas.set_window(i, {domain::from_epoch(w.windows[3 * i]), domain::from_epoch(w.windows[3 * i + 1])},
                          w.windows[3 * i + 2]);
      m.put_windows(quotas, w.rolled_until);
    }
  }
  for (const auto& [at, credits] : w.ledger)
    m.add_usage(at, credits);
  for (const auto& [key, v] : w.answers)
    if (v.size() == 4)
      m.put_answer(key, {v[0], v[1], v[2], v[3]});
  for (const auto& [id, at] : w.imports)
    m.put_import(id, at);
  return true;
}

wire_view to_wire(const cluster::view& v) {
  wire_view w;
  w.epoch = v.epoch;
  for (const auto& m : v.members)
    w.members.push_back({m.node_id, m.http, m.cluster, static_cast<std::uint8_t>(m.state)});
  return w;
}

cluster::view from_wire(const wire_view& w) {
  cluster::view v;
  v.epoch = w.epoch;
  for (const auto& m : w.members)
    v.upsert({m.node_id, m.http, m.cluster,
              static_cast<cluster::member_state>(std::min<std::uint8_t>(m.state, 3))});
  return v;
}

} // namespace quotad::actors
