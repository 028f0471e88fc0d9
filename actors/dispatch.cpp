#include "actors/dispatch.hpp"

#include <atomic>
#include <memory>

#include <caf/all.hpp>

#include "actors/registry.hpp"
#include "actors/routing.hpp"

namespace quotad::actors {

namespace {

/// Where a client's request goes: here, another node, or nowhere (503).
struct route {
  enum { local, remote, unavailable } where;
  std::string target;
  std::string why;
};

route route_of(node_context& ctx, std::string_view client_id, std::uint8_t hops) {
  auto owner = ctx.routes.owner(client_id);
  if (owner.empty())
    return {route::unavailable, {}, "this node has not joined its cluster yet"};
  if (owner == ctx.node_id)
    return {route::local, {}, {}};
  if (ctx.routes.get()->is_down(owner))
    return {route::unavailable, owner,
            "the node that owns this client (" + owner + ") is down; nothing was applied"};
  if (hops >= max_hops)
    return {route::unavailable, owner, "the cluster is changing; try again"};
  return {route::remote, owner, {}};
}

/// The id is taken by value: callers often move the job out of the
/// request that holds it, in the same call.
template <class Atom, class Job>
void send_local(node_context& ctx, std::string client_id, Atom atom, Job job) {
  caf::anon_send(ctx.clients.acquire(client_id), atom, std::move(job));
}

} // namespace

service::debit_result unavailable_debit(std::string detail) {
  service::debit_result r;
  r.result = service::outcome::unavailable;
  r.detail = std::move(detail);
  return r;
}

service::client_result unavailable_client(std::string detail) {
  service::client_result r;
  r.result = service::outcome::unavailable;
  r.detail = std::move(detail);
  return r;
}

service::usage_result unavailable_usage(std::string detail) {
  service::usage_result r;
  r.result = service::outcome::unavailable;
  r.detail = std::move(detail);
  return r;
}

void dispatch_debit(node_context& ctx, service::debit_request req,
                    service::reply<service::debit_result> done, std::uint8_t hops) {
  auto r = route_of(ctx, req.client_id, hops);
  switch (r.where) {
    case route::local: {
      auto actor = ctx.clients.acquire(req.client_id);
      caf::anon_send(actor, debit_atom::value, debit_job{std::move(req), std::move(done)});
      return;
    }
    case route::remote: {
      auto w = to_wire(req);
      w.hops = static_cast<std::uint8_t>(hops + 1);
      caf::anon_send(ctx.cluster, remote_debit{std::move(r.target), std::move(w), std::move(done)});
      return;
    }
    case route::unavailable: {
      auto result = unavailable_debit(std::move(r.why));
      result.owner = std::move(r.target);
      done(std::move(result));
      return;
    }
  }
}

void dispatch_batch(node_context& ctx, std::vector<service::debit_request> reqs,
                    service::reply<std::vector<service::debit_result>> done, std::uint8_t hops) {
  // Items go out concurrently, grouped per remote owner; the last answer to
  // come back completes the batch, in request order.
  struct gather {
    std::vector<service::debit_result> results;
    std::atomic<std::size_t> missing;
    service::reply<std::vector<service::debit_result>> done;
    void finish(std::size_t n) {
      if (missing.fetch_sub(n, std::memory_order_acq_rel) == n)
        done(std::move(results));
    }
  };
  auto n = reqs.size();
  if (n == 0) {
    done({});
    return;
  }
  auto g = std::make_shared<gather>();
  g->results.resize(n);
  g->missing.store(n);
  g->done = std::move(done);
  std::vector<std::pair<std::string, std::vector<std::size_t>>> remote;  // owner → item indices
  for (std::size_t i = 0; i < n; ++i) {
    auto r = route_of(ctx, reqs[i].client_id, hops);
    if (r.where == route::local) {
      auto id = reqs[i].client_id;
      send_local(ctx, std::move(id), debit_atom::value,
                 debit_job{std::move(reqs[i]), [g, i](service::debit_result result) {
                   g->results[i] = std::move(result);
                   g->finish(1);
                 }});
    } else if (r.where == route::remote) {
      auto it = std::find_if(remote.begin(), remote.end(),
                             [&](const auto& p) { return p.first == r.target; });
      if (it == remote.end())
        it = remote.insert(remote.end(), {r.target, {}});
      it->second.push_back(i);
    } else {
      g->results[i] = unavailable_debit(std::move(r.why));
      g->results[i].owner = std::move(r.target);
      g->finish(1);
    }
  }
  for (auto& [owner, indices] : remote) {
    std::vector<wire_debit_request> items;
    items.reserve(indices.size());
    for (auto i : indices) {
      items.push_back(to_wire(reqs[i]));
      items.back().hops = static_cast<std::uint8_t>(hops + 1);
    }
    caf::anon_send(ctx.cluster,
                   remote_batch{owner, std::move(items),
                                [g, indices](std::vector<service::debit_result> results) {
                                  for (std::size_t k = 0; k < indices.size(); ++k)
                                    g->results[indices[k]] =
                                      k < results.size() ? std::move(results[k])
                                                         : unavailable_debit("no answer");
                                  g->finish(indices.size());
                                }});
  }
}

void dispatch_change(node_context& ctx, wire_change change,
                     service::reply<service::client_result> done) {
  auto r = route_of(ctx, change.client_id, change.hops);
  if (r.where == route::unavailable) {
    auto result = unavailable_client(std::move(r.why));
    result.owner = std::move(r.target);
    done(std::move(result));
    return;
  }
  if (r.where == route::remote) {
    ++change.hops;
    caf::anon_send(ctx.cluster, remote_change{std::move(r.target), std::move(change), std::move(done)});
    return;
  }
  auto id = change.client_id;
  switch (static_cast<change_kind>(change.kind)) {
    case change_kind::define: {
      std::vector<domain::definition> defs;
      for (const auto& w : change.definitions) {
        domain::definition d;
        if (!from_wire(w, d)) {
          done(unavailable_client("a definition names a zone unknown on node " + ctx.node_id));
          return;
        }
        defs.push_back(d);
      }
      send_local(ctx, id, define_atom::value, define_job{std::move(defs), std::move(done)});
      return;
    }
    case change_kind::status:
      send_local(ctx, id, status_atom::value, status_job{std::move(done)});
      return;
    case change_kind::forget:
      send_local(ctx, id, forget_atom::value, status_job{std::move(done)});
      return;
    case change_kind::erase: {
      erase_job job;
      if (change.has_from)
        job.from = change.from;
      if (change.has_to)
        job.to = change.to;
      job.done = std::move(done);
      send_local(ctx, id, erase_atom::value, std::move(job));
      return;
    }
    case change_kind::import: {
      import_job job;
      job.import_id = std::move(change.import_id);
      job.records.reserve(change.records.size());
      for (const auto& [at, credits] : change.records)
        job.records.push_back({at, credits});
      job.done = std::move(done);
      send_local(ctx, id, import_atom::value, std::move(job));
      return;
    }
  }
  done(unavailable_client("unknown change"));
}

void dispatch_usage(node_context& ctx, service::usage_query q,
                    service::reply<service::usage_result> done, std::uint8_t hops) {
  auto r = route_of(ctx, q.client_id, hops);
  if (r.where == route::unavailable) {
    auto result = unavailable_usage(std::move(r.why));
    result.owner = std::move(r.target);
    done(std::move(result));
    return;
  }
  if (r.where == route::remote) {
    auto w = to_wire(q);
    w.hops = static_cast<std::uint8_t>(hops + 1);
    caf::anon_send(ctx.cluster, remote_usage{std::move(r.target), std::move(w), std::move(done)});
    return;
  }
  auto id = q.client_id;
  send_local(ctx, id, usage_atom::value, usage_job{std::move(q), std::move(done)});
}

} // namespace quotad::actors
