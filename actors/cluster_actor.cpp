#include "actors/cluster_actor.hpp"

#include <set>
#include <sstream>
#include <unordered_map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/dispatch.hpp"
#include "actors/registry.hpp"
#include "actors/routing.hpp"
#include "actors/wire.hpp"

namespace quotad::actors {

namespace {

/// Runs a function in the cluster actor's own context: replies to other
/// nodes (response promises) are only ever delivered from there.
struct in_context {
  std::function<void()> run;
};

constexpr auto tick_interval = std::chrono::milliseconds{500};
constexpr auto connect_timeout = std::chrono::seconds{3};
/// The coordinator repeats its member list this often, so that a member
/// that missed a change (or just connected) catches up.
constexpr int rebroadcast_ticks = 4;
/// A node that remembers a cluster but finds no member to let it in
/// resumes the cluster after this many ticks (if it has the lowest id).
constexpr int resume_after_ticks = 10;

} // namespace
} // namespace quotad::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::in_context)

namespace quotad::actors {

struct cluster_state {
  node_context* ctx = nullptr;
  cluster_settings settings;
  cluster::view view;
  caf::io::middleman_actor mm;

  std::unordered_map<std::string, caf::actor> peers;  // cluster address → its cluster actor
  std::set<std::string> connecting;
  std::size_t next_candidate = 0;  // round robin over join_through while not joined
  bool join_in_flight = false;
  int join_attempts = 0;  // ticks spent trying to join
  int ticks = 0;

  // This node's part in the change in progress.
  std::string swept_change;     // the change (joining/leaving members) last swept for
  bool sweeping = false;
  bool sweep_failed = false;
  std::size_t moves_pending = 0;

  // The coordinator's record of the change in progress.
  std::string change_key;
  std::set<std::string> handed_off;

  // Leaving on shutdown.
  bool leave_requested = false;
  std::vector<caf::response_promise> leave_waiters;

  static inline const char* name = "quotad.cluster";
};

namespace {

using self_ptr = caf::stateful_actor<cluster_state>*;

/// The members joining or leaving: identifies a change.
std::string change_key(const cluster::view& v) {
  std::string key;
  for (const auto& m : v.members)
    if (m.state == cluster::member_state::joining || m.state == cluster::member_state::leaving)
      key += m.node_id + (m.state == cluster::member_state::joining ? "+" : "-") + ";";
  return key;
}

const std::string& self_id(self_ptr self) {
  return self->state.settings.self.node_id;
}

bool is_coordinator(self_ptr self) {
  auto c = self->state.view.coordinator();
  return c && *c == self_id(self);
}

caf::actor peer_at(self_ptr self, const std::string& address) {
  auto it = self->state.peers.find(address);
  return it == self->state.peers.end() ? caf::actor{} : it->second;
}

caf::actor peer_of(self_ptr self, const std::string& node_id) {
  if (node_id == self_id(self))
    return caf::actor_cast<caf::actor>(self);
  auto* m = self->state.view.find(node_id);
  return m ? peer_at(self, m->cluster) : caf::actor{};
}

bool split_address(const std::string& address, std::string& host, std::uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return false;
  host = address.substr(0, colon);
  try {
    port = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
  } catch (...) {
    return false;
  }
  return true;
}

void publish_routing(self_ptr self) {
  auto& st = self->state;
  st.ctx->routes.set(std::make_shared<routing_snapshot>(self_id(self), st.view));
}

void persist_view(self_ptr self) {
  self->state.ctx->db.put_meta("view", encode_view(self->state.view));
}

void send_view(self_ptr self, const caf::actor& peer) {
  if (peer && peer != caf::actor_cast<caf::actor>(self))
    self->send(peer, view_atom::value, to_wire(self->state.view));
}

void broadcast(self_ptr self) {
  for (const auto& m : self->state.view.members)
    if (m.node_id != self_id(self))
      send_view(self, peer_at(self, m.cluster));
}

void adopt(self_ptr self, cluster::view v);
void finish_leave(self_ptr self);

/// The coordinator changes the list: a new epoch, sent to everyone.
void commit_view(self_ptr self, cluster::view v) {
  v.epoch = std::max(v.epoch, self->state.view.epoch) + 1;
  adopt(self, std::move(v));
  broadcast(self);
}

// --- connections ------------------------------------------------------------

void on_connected(self_ptr self, const std::string& address);

void connect(self_ptr self, const std::string& address) {
  auto& st = self->state;
  if (address == st.settings.self.cluster || st.peers.count(address) || st.connecting.count(address))
    return;
  std::string host;
  std::uint16_t port = 0;
  if (!split_address(address, host, port))
    return;
  st.connecting.insert(address);
  self->request(st.mm, connect_timeout, caf::connect_atom::value, host, port)
    .then(
      [self, address](const caf::node_id&, caf::strong_actor_ptr& ptr,
                      const std::set<std::string>&) {
        self->state.connecting.erase(address);
        if (!ptr)
          return;
        auto peer = caf::actor_cast<caf::actor>(ptr);
        self->state.peers[address] = peer;
        self->monitor(peer);
        on_connected(self, address);
      },
      [self, address](caf::error&) { self->state.connecting.erase(address); });
}

void on_connected(self_ptr self, const std::string& address) {
  spdlog::debug("connected to the cluster actor at {}", address);
  if (is_coordinator(self))
    send_view(self, peer_at(self, address));
}

/// A peer's connection is gone: it is down until it rejoins.
void on_peer_lost(self_ptr self, const std::string& address) {
  auto& st = self->state;
  st.peers.erase(address);
  const cluster::member* lost = nullptr;
  for (const auto& m : st.view.members)
    if (m.cluster == address)
      lost = &m;
  if (!lost || lost->state == cluster::member_state::down)
    return;
  auto id = lost->node_id;
  spdlog::warn("lost the connection to node {} at {}", id, address);
  auto next = st.view;
  next.find(id)->state = cluster::member_state::down;
  auto coordinator = next.coordinator();
  if (coordinator && *coordinator == self_id(self))
    commit_view(self, std::move(next));
  else if (coordinator)
    if (auto peer = peer_of(self, *coordinator))
      self->send(peer, peer_down_atom::value, id);
}

// --- the change in progress ---------------------------------------------------

/// Tells the coordinator this node moved its clients; repeated every tick
/// while the change lasts (the coordinator counts each member once).
void report_handoff(self_ptr self) {
  auto& st = self->state;
  auto coordinator = st.view.coordinator();
  if (!coordinator)
    return;
  if (auto peer = peer_of(self, *coordinator))
    self->send(peer, handoff_atom::value, self_id(self), st.view.epoch);
}

void finish_sweep(self_ptr self) {
  auto& st = self->state;
  st.sweeping = false;
  if (st.sweep_failed) {
    spdlog::warn("some clients could not move yet; retrying");
    st.swept_change.clear();  // sweep again on the next tick
    return;
  }
  report_handoff(self);
}

/// Moves every stored client whose owner changes from this node.
void sweep(self_ptr self) {
  auto& st = self->state;
  auto key = change_key(st.view);
  if (st.sweeping || key == st.swept_change || !st.view.coordinator()
      || !st.view.find(self_id(self)))
    return;
  st.swept_change = key;
  st.sweeping = true;
  st.sweep_failed = false;
  st.moves_pending = 0;
  auto snapshot = st.ctx->routes.get();
  for (const auto& id : st.ctx->db.client_ids()) {
    if (snapshot->current.owner(id) != self_id(self))
      continue;
    const auto& target = snapshot->next.owner(id);
    if (target.empty() || target == self_id(self))
      continue;  // nobody stays to take it: the whole cluster is going away
    auto peer = peer_of(self, target);
    if (!peer) {
      st.sweep_failed = true;
      connect(self, st.view.find(target)->cluster);
      continue;
    }
    ++st.moves_pending;
    caf::anon_send(st.ctx->clients.acquire(id), move_atom::value, target, peer);
  }
  spdlog::info("ring change {}: moving {} clients", key, st.moves_pending);
  if (st.moves_pending == 0)
    finish_sweep(self);
}

/// The coordinator: once every member has moved its clients, the change
/// completes: joiners are up, leavers are gone.
void maybe_complete_change(self_ptr self) {
  auto& st = self->state;
  if (!is_coordinator(self) || !st.view.changing())
    return;
  auto key = change_key(st.view);
  if (key != st.change_key) {
    st.change_key = key;
    st.handed_off.clear();
  }
  for (const auto& m : st.view.members)
    if (!st.handed_off.count(m.node_id))
      return;
  auto next = st.view;
  std::vector<std::string> leavers;
  for (auto& m : next.members)
    if (m.state == cluster::member_state::joining)
      m.state = cluster::member_state::up;
  for (const auto& m : st.view.members)
    if (m.state == cluster::member_state::leaving)
      leavers.push_back(m.node_id);
  for (const auto& id : leavers)
    next.erase(id);
  std::vector<caf::actor> leaving_peers;
  for (const auto& id : leavers)
    if (id != self_id(self))
      leaving_peers.push_back(peer_of(self, id));
  spdlog::info("ring change {} complete", key);
  commit_view(self, std::move(next));
  for (auto& p : leaving_peers)
    send_view(self, p);
}

// --- the member list ------------------------------------------------------------

void adopt(self_ptr self, cluster::view v) {
  auto& st = self->state;
  if (v.epoch <= st.view.epoch)
    return;
  st.view = std::move(v);
  persist_view(self);
  publish_routing(self);
  spdlog::info("cluster epoch {}: {} members", st.view.epoch, st.view.members.size());
  for (const auto& m : st.view.members)
    if (m.node_id != self_id(self))
      connect(self, m.cluster);
  if (!st.view.find(self_id(self)) && st.leave_requested) {
    finish_leave(self);
    return;
  }
  if (st.view.changing())
    sweep(self);
  else
    st.swept_change.clear();
  maybe_complete_change(self);
}

caf::result<wire_view> handle_join(self_ptr self, const wire_member& w) {
  auto& st = self->state;
  auto snapshot = st.ctx->routes.get();
  if (!snapshot->joined())
    return caf::make_error(caf::sec::request_receiver_down, "not joined");
  if (!is_coordinator(self)) {
    auto coordinator = st.view.coordinator();
    auto peer = coordinator ? peer_of(self, *coordinator) : caf::actor{};
    if (!peer)
      return caf::make_error(caf::sec::request_receiver_down, "no coordinator");
    self->delegate(peer, join_atom::value, w);
    return caf::delegated<wire_view>{};
  }
  auto next = st.view;
  cluster::member m{w.node_id, w.http, w.cluster, cluster::member_state::up};
  if (auto* known = next.find(w.node_id)) {
    // A member coming back (after a restart): it keeps its place in the ring.
    if (known->state == cluster::member_state::joining)
      m.state = cluster::member_state::joining;
    if (*known == m)
      return to_wire(st.view);
    next.upsert(m);
  } else {
    bool any_down = false;
    for (const auto& x : next.members)
      any_down = any_down || x.state == cluster::member_state::down;
    // One ring change at a time, and none while a member is down (its
    // clients could not move): the joiner retries.
    if (next.changing() || any_down)
      return to_wire(st.view);
    m.state = cluster::member_state::joining;
    next.upsert(m);
  }
  spdlog::info("node {} joins from {}", w.node_id, w.cluster);
  connect(self, w.cluster);
  commit_view(self, std::move(next));
  return to_wire(st.view);
}

/// While not joined: ask the next candidate to let this node in.
void try_join(self_ptr self) {
  auto& st = self->state;
  if (st.join_in_flight || st.settings.join_through.empty())
    return;
  auto address = st.settings.join_through[st.next_candidate++ % st.settings.join_through.size()];
  auto peer = peer_at(self, address);
  if (!peer) {
    connect(self, address);
    return;
  }
  st.join_in_flight = true;
  auto& me = st.settings.self;
  self->request(peer, connect_timeout, join_atom::value, wire_member{me.node_id, me.http, me.cluster, 0})
    .then(
      [self](wire_view& w) {
        self->state.join_in_flight = false;
        adopt(self, from_wire(w));
      },
      [self](caf::error&) { self->state.join_in_flight = false; });
}

void finish_leave(self_ptr self) {
  auto& st = self->state;
  for (auto& rp : st.leave_waiters)
    rp.deliver(true);
  st.leave_waiters.clear();
}

/// After every member went down at once, nobody is joined to let the
/// others in. The member with the lowest id of the remembered list then
/// resumes it: itself up, the others down until they rejoin. Ownership does
/// not change (a down member keeps its clients), so a node resuming while
/// the others are merely unreachable never creates a second owner.
void maybe_resume(self_ptr self) {
  auto& st = self->state;
  if (!st.settings.remembered || st.view.epoch > 0)
    return;
  auto v = *st.settings.remembered;
  if (v.members.empty() || v.members.front().node_id != self_id(self))
    return;
  for (auto& m : v.members)
    m.state = m.node_id == self_id(self) ? cluster::member_state::up : cluster::member_state::down;
  v.upsert({self_id(self), st.settings.self.http, st.settings.self.cluster, cluster::member_state::up});
  spdlog::warn("no member of the remembered cluster answers: resuming it (epoch {})", v.epoch + 1);
  st.settings.remembered.reset();
  commit_view(self, std::move(v));
}

void request_leave(self_ptr self) {
  auto& st = self->state;
  auto* me = st.view.find(self_id(self));
  if (!me)
    return;
  // The last member (the others gone or leaving) has no one to hand on to.
  bool others_stay = false;
  for (const auto& m : st.view.members)
    others_stay = others_stay || (m.node_id != self_id(self) && m.state != cluster::member_state::leaving);
  if (!others_stay) {
    finish_leave(self);
    return;
  }
  if (me->state == cluster::member_state::leaving)
    return;
  if (is_coordinator(self)) {
    if (st.view.changing())
      return;  // after the change in progress
    auto next = st.view;
    next.find(self_id(self))->state = cluster::member_state::leaving;
    commit_view(self, std::move(next));
    return;
  }
  auto coordinator = st.view.coordinator();
  if (auto peer = coordinator ? peer_of(self, *coordinator) : caf::actor{})
    self->request(peer, connect_timeout, leave_atom::value, self_id(self))
      .then([](bool) {}, [](caf::error&) {});
}

void on_tick(self_ptr self) {
  auto& st = self->state;
  // Until the coordinator lists this node as up: (re)join. Harmless while a
  // join is in progress: the coordinator answers with the list as it is.
  if (!st.ctx->routes.get()->joined()) {
    try_join(self);
    if (++st.join_attempts >= resume_after_ticks)
      maybe_resume(self);
  } else {
    st.join_attempts = 0;
  }
  for (const auto& m : st.view.members)
    if (m.node_id != self_id(self))
      connect(self, m.cluster);
  if (st.view.changing()) {
    sweep(self);
    if (!st.sweeping && st.swept_change == change_key(st.view))
      report_handoff(self);
  }
  if (st.leave_requested)
    request_leave(self);
  if (is_coordinator(self) && ++st.ticks % rebroadcast_ticks == 0)
    broadcast(self);
  maybe_complete_change(self);
}

template <class Wire>
auto deliver_later(self_ptr self, caf::typed_response_promise<Wire> rp) {
  return [handle = caf::actor_cast<caf::actor>(self), rp](Wire w) mutable {
    caf::anon_send(handle, in_context{[rp, w = std::move(w)]() mutable { rp.deliver(std::move(w)); }});
  };
}

/// Runs `fn` with the reply shared by the success and error paths.
template <class Reply>
auto shared(Reply done) {
  return std::make_shared<Reply>(std::move(done));
}

} // namespace

namespace {

caf::behavior cluster_actor(caf::stateful_actor<cluster_state>* self, node_context* ctx,
                            cluster_settings settings) {
  auto& st = self->state;
  st.ctx = ctx;
  st.settings = std::move(settings);
  st.mm = self->system().middleman().actor_handle();
  st.view = st.settings.start_view;
  publish_routing(self);
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr& e) -> caf::error {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("cluster actor failed: {}", x.what());
    } catch (...) {
      spdlog::error("cluster actor failed");
    }
    return caf::make_error(caf::sec::runtime_error);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    for (const auto& [address, peer] : self->state.peers)
      if (peer.address() == dm.source) {
        auto lost = address;
        on_peer_lost(self, lost);
        return;
      }
  });
  self->send(self, tick_atom::value);
  auto timeout = ctx->settings.forward_timeout;
  return {
    // --- local ---------------------------------------------------------------
    [self](tick_atom) {
      on_tick(self);
      self->delayed_send(self, tick_interval, tick_atom::value);
    },
    [](in_context& c) { c.run(); },
    [self, timeout](remote_debit& r) {
      auto ctx = self->state.ctx;
      auto peer = peer_of(self, r.target);
      auto done = shared(std::move(r.done));
      if (!peer) {
        ctx->forward_failures.fetch_add(1, std::memory_order_relaxed);
        (*done)(unavailable_debit("no connection to node " + r.target + "; nothing was applied"));
        return;
      }
      ctx->forwarded.fetch_add(1, std::memory_order_relaxed);
      ctx->forwards_in_flight.fetch_add(1);
      self->request(peer, timeout, debit_atom::value, std::move(r.request))
        .then([done, ctx](wire_debit_result& w) {
                ctx->forwards_in_flight.fetch_sub(1);
                (*done)(from_wire(std::move(w)));
              },
              [done, ctx, target = r.target](caf::error&) {
                ctx->forwards_in_flight.fetch_sub(1);
                ctx->forward_failures.fetch_add(1, std::memory_order_relaxed);
                (*done)(unavailable_debit("node " + target + " did not answer; nothing was applied"));
              });
    },
    [self, timeout](remote_batch& r) {
      auto ctx = self->state.ctx;
      auto peer = peer_of(self, r.target);
      auto done = shared(std::move(r.done));
      auto n = r.requests.size();
      auto fail = [done, n, ctx](std::string why) {
        ctx->forward_failures.fetch_add(1, std::memory_order_relaxed);
        std::vector<service::debit_result> results(n, unavailable_debit(why));
        (*done)(std::move(results));
      };
      if (!peer) {
        fail("no connection to node " + r.target + "; nothing was applied");
        return;
      }
      ctx->forwarded.fetch_add(1, std::memory_order_relaxed);
      ctx->forwards_in_flight.fetch_add(1);
      self->request(peer, timeout, batch_atom::value, std::move(r.requests))
        .then(
          [done, ctx](std::vector<wire_debit_result>& ws) {
            ctx->forwards_in_flight.fetch_sub(1);
            std::vector<service::debit_result> results;
            results.reserve(ws.size());
            for (auto& w : ws)
              results.push_back(from_wire(std::move(w)));
            (*done)(std::move(results));
          },
          [fail, ctx, target = r.target](caf::error&) {
            ctx->forwards_in_flight.fetch_sub(1);
            fail("node " + target + " did not answer; nothing was applied");
          });
    },
    [self, timeout](remote_change& r) {
      auto ctx = self->state.ctx;
      auto peer = peer_of(self, r.target);
      auto done = shared(std::move(r.done));
      if (!peer) {
        (*done)(unavailable_client("no connection to node " + r.target + "; nothing was applied"));
        return;
      }
      ctx->forwarded.fetch_add(1, std::memory_order_relaxed);
      ctx->forwards_in_flight.fetch_add(1);
      self->request(peer, timeout, change_atom::value, std::move(r.change))
        .then([done, ctx](wire_client_result& w) {
                ctx->forwards_in_flight.fetch_sub(1);
                (*done)(from_wire(std::move(w)));
              },
              [done, ctx, target = r.target](caf::error&) {
                ctx->forwards_in_flight.fetch_sub(1);
                (*done)(unavailable_client("node " + target + " did not answer"));
              });
    },
    [self, timeout](remote_usage& r) {
      auto ctx = self->state.ctx;
      auto peer = peer_of(self, r.target);
      auto done = shared(std::move(r.done));
      if (!peer) {
        (*done)(unavailable_usage("no connection to node " + r.target));
        return;
      }
      ctx->forwarded.fetch_add(1, std::memory_order_relaxed);
      ctx->forwards_in_flight.fetch_add(1);
      self->request(peer, timeout, usage_atom::value, std::move(r.query))
        .then([done, ctx](wire_usage_result& w) {
                ctx->forwards_in_flight.fetch_sub(1);
                (*done)(from_wire(std::move(w)));
              },
              [done, ctx, target = r.target](caf::error&) {
                ctx->forwards_in_flight.fetch_sub(1);
                (*done)(unavailable_usage("node " + target + " did not answer"));
              });
    },
    [self](adopt_atom, const caf::actor& peer, wire_client_state& w) -> caf::result<bool> {
      // A local client actor hands its client to `peer`'s node.
      auto rp = self->make_response_promise<bool>();
      self->request(peer, std::chrono::milliseconds{3500}, adopt_atom::value, std::move(w))
        .then([rp](bool ok) mutable { rp.deliver(ok); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](moved_atom, const std::string& client_id, bool ok) {
      auto& st = self->state;
      if (!ok)
        spdlog::warn("client {} could not move yet", client_id);
      if (!st.sweeping || st.moves_pending == 0)
        return;
      st.sweep_failed = st.sweep_failed || !ok;
      if (--st.moves_pending == 0)
        finish_sweep(self);
    },
    [self](leave_atom) -> caf::result<bool> {
      auto& st = self->state;
      auto* me = st.view.find(self_id(self));
      bool alone = st.view.members.size() <= 1;
      if (!me || alone || !st.ctx->routes.get()->joined())
        return true;
      st.leave_requested = true;
      auto rp = self->make_response_promise();
      st.leave_waiters.push_back(rp);
      request_leave(self);
      return caf::delegated<bool>{};
    },
    // --- from other nodes ------------------------------------------------------
    [self](join_atom, const wire_member& w) -> caf::result<wire_view> { return handle_join(self, w); },
    [self](view_atom, const wire_view& w) { adopt(self, from_wire(w)); },
    [self](leave_atom, const std::string& node_id) -> bool {
      auto& st = self->state;
      if (!is_coordinator(self))
        return false;
      auto* m = st.view.find(node_id);
      if (!m || m->state == cluster::member_state::leaving)
        return true;
      if (st.view.changing())
        return false;
      auto next = st.view;
      next.find(node_id)->state = cluster::member_state::leaving;
      spdlog::info("node {} leaves", node_id);
      commit_view(self, std::move(next));
      return true;
    },
    [self](handoff_atom, const std::string& node_id, std::uint64_t) {
      auto& st = self->state;
      if (!is_coordinator(self))
        return;
      auto key = change_key(st.view);
      if (key != st.change_key) {
        st.change_key = key;
        st.handed_off.clear();
      }
      st.handed_off.insert(node_id);
      maybe_complete_change(self);
    },
    [self](peer_down_atom, const std::string& node_id) {
      auto& st = self->state;
      auto* m = st.view.find(node_id);
      if (!is_coordinator(self) || !m || m->state == cluster::member_state::down)
        return;
      auto next = st.view;
      next.find(node_id)->state = cluster::member_state::down;
      commit_view(self, std::move(next));
    },
    [self](remove_member_job& job) {
      auto& st = self->state;
      if (!st.view.find(job.node_id)) {
        job.done(service::outcome::unknown_client);
        return;
      }
      auto coordinator = st.view.coordinator();
      auto peer = coordinator ? peer_of(self, *coordinator) : caf::actor{};
      if (!peer) {
        job.done(service::outcome::unavailable);
        return;
      }
      auto done = shared(std::move(job.done));
      self->request(peer, connect_timeout, remove_atom::value, job.node_id)
        .then([done](std::uint8_t outcome) { (*done)(static_cast<service::outcome>(outcome)); },
              [done](caf::error&) { (*done)(service::outcome::unavailable); });
    },
    [self](remove_atom, const std::string& node_id) -> std::uint8_t {
      auto& st = self->state;
      if (!is_coordinator(self))
        return static_cast<std::uint8_t>(service::outcome::unavailable);
      auto* m = st.view.find(node_id);
      if (!m)
        return static_cast<std::uint8_t>(service::outcome::unknown_client);
      // A running member would go on answering for its clients: two owners.
      if (node_id == self_id(self) || m->state != cluster::member_state::down)
        return static_cast<std::uint8_t>(service::outcome::conflict);
      auto next = st.view;
      next.erase(node_id);
      spdlog::warn("node {} removed from the cluster by an operator", node_id);
      commit_view(self, std::move(next));
      return static_cast<std::uint8_t>(service::outcome::ok);
    },
    [self](debit_atom, wire_debit_request& w) -> caf::result<wire_debit_result> {
      auto ctx = self->state.ctx;
      ctx->received.fetch_add(1, std::memory_order_relaxed);
      auto rp = self->make_response_promise<wire_debit_result>();
      auto hops = w.hops;
      auto deliver = deliver_later(self, rp);
      dispatch_debit(*ctx, from_wire(std::move(w)),
                     [deliver](service::debit_result r) mutable { deliver(to_wire(r)); }, hops);
      return rp;
    },
    [self](batch_atom, std::vector<wire_debit_request>& ws)
      -> caf::result<std::vector<wire_debit_result>> {
      auto ctx = self->state.ctx;
      ctx->received.fetch_add(1, std::memory_order_relaxed);
      auto rp = self->make_response_promise<std::vector<wire_debit_result>>();
      std::uint8_t hops = ws.empty() ? 0 : ws.front().hops;
      std::vector<service::debit_request> reqs;
      reqs.reserve(ws.size());
      for (auto& w : ws)
        reqs.push_back(from_wire(std::move(w)));
      auto deliver = deliver_later(self, rp);
      dispatch_batch(*ctx, std::move(reqs),
                     [deliver](std::vector<service::debit_result> rs) mutable {
                       std::vector<wire_debit_result> out;
                       out.reserve(rs.size());
                       for (const auto& r : rs)
                         out.push_back(to_wire(r));
                       deliver(std::move(out));
                     },
                     hops);
      return rp;
    },
    [self](change_atom, wire_change& w) -> caf::result<wire_client_result> {
      auto rp = self->make_response_promise<wire_client_result>();
      auto deliver = deliver_later(self, rp);
      dispatch_change(*self->state.ctx, std::move(w),
                      [deliver](service::client_result r) mutable { deliver(to_wire(r)); });
      return rp;
    },
    [self](usage_atom, wire_usage_query& w) -> caf::result<wire_usage_result> {
      auto rp = self->make_response_promise<wire_usage_result>();
      auto hops = w.hops;
      auto deliver = deliver_later(self, rp);
      dispatch_usage(*self->state.ctx, from_wire(std::move(w)),
                     [deliver](service::usage_result r) mutable { deliver(to_wire(r)); }, hops);
      return rp;
    },
    [self](adopt_atom, wire_client_state& w) -> caf::result<bool> {
      auto ctx = self->state.ctx;
      auto rp = self->make_response_promise<bool>();
      storage::mutation m{w.client_id};
      if (!adopt_into(w, m))
        return false;
      auto handle = caf::actor_cast<caf::actor>(self);
      ctx->db.commit(std::move(m), [handle, rp, ctx, client_id = w.client_id](bool ok) mutable {
        if (ok) {
          // Answer for it from now on, even while the ring still names the
          // old owner (forwarded requests arrive before the change completes).
          ctx->routes.mark_moved(client_id, ctx->node_id);
          ctx->clients_moved_in.fetch_add(1, std::memory_order_relaxed);
        }
        caf::anon_send(handle, in_context{[rp, ok]() mutable { rp.deliver(ok); }});
      });
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_cluster_actor(caf::actor_system& system, node_context* ctx,
                               cluster_settings settings) {
  return system.spawn(cluster_actor, ctx, std::move(settings));
}

} // namespace quotad::actors
