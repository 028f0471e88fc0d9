#include "actors/client_actor.hpp"

#include <algorithm>
#include <limits>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster_actor.hpp"
#include "actors/dispatch.hpp"
#include "actors/routing.hpp"

namespace quotad::actors {

namespace {

using self_ptr = client_actor::stateful_pointer<client_state>;
using domain::micro_credits;
using std::int64_t;

constexpr int64_t min_time = std::numeric_limits<int64_t>::min();
constexpr int64_t max_time = std::numeric_limits<int64_t>::max();

int64_t now_epoch(self_ptr self) {
  return self->state.node->clock.now_epoch();
}

// --- replies, in commit order -------------------------------------------

bool failed(self_ptr self) {
  return self->state.sync->failed.load();
}

bool all_committed(self_ptr self) {
  return self->state.sync->committed.load() == self->state.submitted;
}

/// Sends the held replies whose mutations are written, in order.
void deliver_ready(self_ptr self) {
  auto& st = self->state;
  auto committed = st.sync->committed.load();
  std::size_t n = 0;
  while (n < st.replies.size() && st.replies[n].after <= committed) {
    st.replies[n].send(!failed(self));
    ++n;
  }
  st.replies.erase(st.replies.begin(), st.replies.begin() + static_cast<std::ptrdiff_t>(n));
  if (st.replies.empty())
    st.sync->waiters.store(false);
}

/// Sends `send` once every mutation submitted so far is committed: no
/// answer ever reflects a change that could still be lost.
void reply_after_commits(self_ptr self, std::function<void(bool ok)> send) {
  auto& st = self->state;
  if (st.replies.empty() && all_committed(self) && !failed(self)) {
    send(true);
    return;
  }
  st.replies.push_back({st.submitted, std::move(send)});
  // Announce the wait before looking again: the writer stores `committed`
  // before it reads `waiters`, so one of the two sees the other.
  st.sync->waiters.store(true);
  deliver_ready(self);
}

/// Hands a mutation to the write path. `reply`, if given, runs on the
/// writer thread right after the write (the hot path: no trip back through
/// the mailbox); the actor hears of the commit only when it waits for it.
std::uint64_t submit(self_ptr self, storage::mutation m, std::function<void(bool ok)> reply = {}) {
  auto& st = self->state;
  if (all_committed(self) && !failed(self)) {
    // Nothing of this client is queued: write here and now (one RocksDB
    // write, the WAL included) instead of waking the writer thread.
    auto seq = ++st.submitted;
    auto ok = st.node->db.write_now(std::move(m));
    if (!ok)
      st.sync->failed.store(true);
    st.sync->committed.store(seq);
    if (reply)
      reply(ok);
    if (!ok)
      caf::anon_send(caf::actor_cast<client_actor>(self), committed_atom::value, seq, ok);
    else if (!st.replies.empty())
      deliver_ready(self);
    return seq;
  }
  auto seq = ++st.submitted;
  auto handle = caf::actor_cast<client_actor>(self);
  st.node->db.commit(std::move(m), [handle, seq, sync = st.sync, reply = std::move(reply)](bool ok) {
    if (!ok)
      sync->failed.store(true);
    sync->committed.store(seq);
    if (reply)
      reply(!sync->failed.load());
    if (!ok || sync->waiters.load())
      caf::anon_send(handle, committed_atom::value, seq, ok);
  });
  return seq;
}

void try_retire(self_ptr self) {
  auto& st = self->state;
  if (!all_committed(self) || !st.replies.empty() || st.moving)
    return;
  if (st.node->clients.try_retire(st.id, st.entry))
    self->quit();
}

void job_done(self_ptr self) {
  auto& st = self->state;
  st.node->clients.handled(st.entry);
  // An unknown or moved client keeps nothing worth an actor: retire at once.
  if (!st.quotas.known() || failed(self) || !st.moved_to.empty())
    try_retire(self);
}

// --- state ----------------------------------------------------------------

/// Recomputes every window's used credits from the ledger (after the
/// ledger changed under it, or the clock went back). Waits for this node's
/// pending writes first so the ledger read is exact.
void recompute_used(self_ptr self) {
  auto& st = self->state;
  st.node->db.wait_committed();
  auto quotas = st.quotas.quotas();
  for (std::size_t i = 0; i < quotas.size(); ++i) {
    auto w = quotas[i].current;
    auto used = st.node->db.ledger_total(st.id, domain::to_epoch(w.start),
                                         domain::to_epoch(w.end) - 1);
    st.quotas.set_used(i, used);
  }
}

/// Rolls ledger entries older than the exact horizon into buckets, at most
/// about once an hour of the node's clock per client.
void maybe_roll_up(self_ptr self, storage::mutation& m) {
  auto& st = self->state;
  auto now = now_epoch(self);
  auto horizon = now - st.node->settings.exact_ledger_seconds;
  auto cutoff = horizon - (((horizon % storage::ledger_bucket_seconds) + storage::ledger_bucket_seconds)
                           % storage::ledger_bucket_seconds);
  if (cutoff < st.rolled_until + 3600)
    return;
  st.node->db.wait_committed();
  auto from = st.rolled_until;
  if (from == 0) {
    auto first = st.node->db.first_usage(st.id);
    if (!first || *first >= cutoff) {
      st.rolled_until = cutoff;
      return;
    }
    from = *first;
  }
  // At most a week per debit keeps every roll-up mutation small.
  auto before = std::min(cutoff, from - (((from % storage::ledger_bucket_seconds)
                                          + storage::ledger_bucket_seconds)
                                         % storage::ledger_bucket_seconds)
                                   + 7 * 86400);
  if (st.node->db.plan_rollup(st.id, from, before, m))
    st.node->rollups.fetch_add(1, std::memory_order_relaxed);
  st.rolled_until = before;
}

void load(self_ptr self) {
  auto& st = self->state;
  st.loaded = true;
  // A request routed here just before the client moved away: follow it.
  auto owner = st.node->routes.owner(st.id);
  if (!owner.empty() && owner != st.node->node_id) {
    st.moved_to = owner;
    return;
  }
  auto stored = st.node->db.load_client(st.id);
  if (!stored)
    return;
  auto now = st.node->clock.now();
  st.quotas.assign(stored->definitions, now);
  st.rolled_until = stored->rolled_until;
  bool stale = false;
  auto quotas = st.quotas.quotas();
  for (std::size_t i = 0; i < quotas.size() && i < stored->windows.size(); ++i) {
    const auto& saved = stored->windows[i];
    if (saved == quotas[i].current)
      st.quotas.set_used(i, stored->used[i]);
    else if (saved.end > quotas[i].current.start)
      stale = true;  // saved window lies after now: the clock went back
    // else: the saved window has ended; the new one starts at 0.
  }
  if (stale || stored->windows.size() != quotas.size())
    recompute_used(self);
}

void ensure_loaded(self_ptr self) {
  if (!self->state.loaded)
    load(self);
}

/// Moves ended windows on; recomputes from the ledger if the clock went back.
void renew(self_ptr self) {
  auto& st = self->state;
  if (st.quotas.renew(st.node->clock.now()))
    recompute_used(self);
}

service::client_view view_of(self_ptr self) {
  auto& st = self->state;
  service::client_view v;
  v.client_id = st.id;
  auto quotas = st.quotas.quotas();
  v.quotas.assign(quotas.begin(), quotas.end());
  v.lowest = st.quotas.lowest();
  v.now = st.node->clock.now();
  return v;
}

/// Answers a client_result after pending commits.
void reply_status(self_ptr self, service::reply<service::client_result> done,
                  service::outcome result = service::outcome::ok) {
  service::client_result r;
  r.result = result;
  r.owner = self->state.node->node_id;
  if (result == service::outcome::ok)
    r.view = view_of(self);
  reply_after_commits(self, [r = std::move(r), done = std::move(done)](bool ok) mutable {
    if (!ok) {
      r.result = service::outcome::unavailable;
      r.detail = "the change could not be written; nothing was applied";
    }
    done(std::move(r));
  });
}

/// Fills the reported quota of a debit result from a quota set.
void report(service::debit_result& r, const domain::quota_set& quotas, std::optional<std::size_t> index,
            bool want_quotas) {
  auto all = quotas.quotas();
  if (want_quotas)
    r.quotas.assign(all.begin(), all.end());
  if (!index)
    return;
  r.has_quota = true;
  r.reported = static_cast<int>(*index);
  r.remaining = all[*index].remaining();
  r.reset = domain::to_epoch(all[*index].current.end);
}

/// The reply of a debit, given whether the write (if any) succeeded.
std::function<void(bool)> debit_reply(service::debit_result r,
                                      service::reply<service::debit_result>& done) {
  return [r = std::move(r), done = std::move(done)](bool ok) mutable {
    if (!ok) {
      service::debit_result failed;
      failed.result = service::outcome::unavailable;
      failed.owner = std::move(r.owner);
      failed.detail = "the debit could not be written; it was not applied";
      r = std::move(failed);
    }
    done(std::move(r));
  };
}

void send_debit(self_ptr self, service::debit_result r, service::reply<service::debit_result>& done) {
  reply_after_commits(self, debit_reply(std::move(r), done));
}

const storage::stored_answer* find_answer(self_ptr self, const std::string& key,
                                          std::optional<storage::stored_answer>& from_disk) {
  auto& st = self->state;
  for (auto& a : st.answers)
    if (a.key == key)
      return &a.answer;
  from_disk = st.node->db.find_answer(st.id, key, now_epoch(self));
  return from_disk ? &*from_disk : nullptr;
}

void handle_debit(self_ptr self, debit_job& job) {
  auto& st = self->state;
  auto& req = job.request;
  service::debit_result r;
  r.owner = st.node->node_id;
  r.now = st.node->clock.now();
  if (failed(self)) {
    r.result = service::outcome::unavailable;
    r.detail = "the client's state is being reloaded; try again";
    job.done(std::move(r));
    return;
  }
  if (!st.quotas.known()) {
    r.result = service::outcome::unknown_client;
    send_debit(self, std::move(r), job.done);
    return;
  }
  renew(self);
  if (!req.idempotency_key.empty()) {
    auto committed = st.sync->committed.load();
    std::erase_if(st.answers, [committed](const auto& a) { return a.seq <= committed; });
    std::optional<storage::stored_answer> from_disk;
    if (auto* previous = find_answer(self, req.idempotency_key, from_disk)) {
      report(r, st.quotas, st.quotas.lowest(), req.want_quotas);
      r.replayed = true;
      r.credits = previous->credits;
      r.remaining = previous->remaining;
      r.reset = previous->reset;
      send_debit(self, std::move(r), job.done);
      return;
    }
  }
  auto decision = st.quotas.decide(req.credits);
  if (!decision.allowed) {
    st.node->debits_refused.fetch_add(1, std::memory_order_relaxed);
    r.result = service::outcome::refused;
    r.violated = decision.violated;
    report(r, st.quotas, st.quotas.reported_violation(decision.violated), req.want_quotas);
    r.retry_after = std::max<int64_t>(0, domain::to_epoch(st.quotas.retry_at(decision.violated))
                                             - domain::to_epoch(r.now));
    send_debit(self, std::move(r), job.done);
    return;
  }
  r.credits = req.credits;
  if (req.dry_run) {
    auto after = st.quotas;
    after.apply(req.credits);
    report(r, after, after.lowest(), req.want_quotas);
    send_debit(self, std::move(r), job.done);
    return;
  }
  st.quotas.apply(req.credits);
  report(r, st.quotas, st.quotas.lowest(), req.want_quotas);
  st.node->debits_allowed.fetch_add(1, std::memory_order_relaxed);
  storage::mutation m{st.id};
  maybe_roll_up(self, m);
  m.add_usage(domain::to_epoch(r.now), req.credits);
  m.put_windows(st.quotas, st.rolled_until);
  if (!req.idempotency_key.empty()) {
    storage::stored_answer answer{r.credits, r.has_quota ? r.remaining : -1, r.reset,
                                  domain::to_epoch(r.now) + st.node->settings.idempotency_retention};
    m.put_answer(req.idempotency_key, answer);
    st.answers.push_back({st.submitted + 1, req.idempotency_key, answer});
  }
  // Held replies (reads, refusals) go first; this one rides on its write.
  if (!st.replies.empty()) {
    submit(self, std::move(m));
    send_debit(self, std::move(r), job.done);
    return;
  }
  submit(self, std::move(m), debit_reply(std::move(r), job.done));
}

void handle_define(self_ptr self, define_job& job) {
  auto& st = self->state;
  st.quotas.assign(job.definitions, st.node->clock.now());
  recompute_used(self);  // usage history counts against the new windows
  storage::mutation m{st.id};
  m.put_definitions(job.definitions);
  m.put_windows(st.quotas, st.rolled_until);
  submit(self, std::move(m));
  reply_status(self, std::move(job.done));
}

void handle_usage(self_ptr self, usage_job& job) {
  auto& st = self->state;
  st.node->db.wait_committed();
  auto& q = job.query;
  auto from = q.from.value_or(min_time);
  auto to = q.to.value_or(max_time);
  service::usage_result r;
  r.owner = st.node->node_id;
  if (!st.quotas.known() && st.node->db.ledger_total(st.id, min_time, max_time) == 0) {
    r.result = service::outcome::unknown_client;
  } else if (q.daily) {
    domain::daily_usage days{q.zone ? q.zone : domain::find_zone("UTC")};
    st.node->db.ledger_scan(st.id, from, to, [&](int64_t at, micro_credits credits) {
      r.total = domain::saturating_add(r.total, credits);
      days.add(at, credits);
    });
    r.days = days.finish();
  } else {
    r.total = st.node->db.ledger_total(st.id, from, to);
  }
  reply_after_commits(self, [r = std::move(r), done = std::move(job.done)](bool) mutable {
    done(std::move(r));
  });
}

/// After the ledger changed: recompute, persist the windows, answer.
void recompute_and_answer(self_ptr self, service::reply<service::client_result> done) {
  auto& st = self->state;
  if (!st.quotas.known()) {
    reply_status(self, std::move(done), service::outcome::unknown_client);
    return;
  }
  renew(self);
  recompute_used(self);
  storage::mutation m{st.id};
  m.put_windows(st.quotas, st.rolled_until);
  submit(self, std::move(m));
  reply_status(self, std::move(done));
}

void handle_erase(self_ptr self, erase_job& job) {
  auto& st = self->state;
  if (!st.quotas.known()) {
    reply_status(self, std::move(job.done), service::outcome::unknown_client);
    return;
  }
  storage::mutation m{st.id};
  m.delete_usage(job.from.value_or(min_time), job.to.value_or(max_time));
  submit(self, std::move(m));
  recompute_and_answer(self, std::move(job.done));
}

void handle_import(self_ptr self, import_job& job) {
  auto& st = self->state;
  st.node->db.wait_committed();
  if (!st.node->db.import_applied(st.id, job.import_id)) {
    storage::mutation m{st.id};
    for (const auto& rec : job.records) {
      // History older than the roll-up horizon goes straight into its bucket.
      auto at = rec.at;
      if (at < st.rolled_until)
        at -= ((at % storage::ledger_bucket_seconds) + storage::ledger_bucket_seconds)
              % storage::ledger_bucket_seconds;
      m.add_usage(at, rec.credits);
    }
    m.put_import(job.import_id, now_epoch(self));
    submit(self, std::move(m));
  }
  if (!st.quotas.known()) {
    // History may arrive before the client's quotas: keep it, report the
    // client as it is (no quotas yet).
    service::client_result r;
    r.owner = st.node->node_id;
    r.view.client_id = st.id;
    r.view.now = st.node->clock.now();
    reply_after_commits(self, [r = std::move(r), done = std::move(job.done)](bool ok) mutable {
      if (!ok)
        r.result = service::outcome::unavailable;
      done(std::move(r));
    });
    return;
  }
  recompute_and_answer(self, std::move(job.done));
}

void handle_forget(self_ptr self, status_job& job) {
  auto& st = self->state;
  storage::mutation m{st.id};
  m.delete_client();
  submit(self, std::move(m));
  st.quotas.clear();
  st.answers.clear();
  st.rolled_until = 0;
  service::client_result r;
  r.owner = st.node->node_id;
  reply_after_commits(self, [r = std::move(r), done = std::move(job.done)](bool ok) mutable {
    if (!ok)
      r.result = service::outcome::unavailable;
    done(std::move(r));
  });
}

void handle_committed(self_ptr self, std::uint64_t, bool ok) {
  auto& st = self->state;
  if (!ok) {
    // Memory is now ahead of the disk: answer what waits with 503 and
    // reload from disk through a fresh actor.
    st.node->write_failures.fetch_add(1, std::memory_order_relaxed);
  }
  deliver_ready(self);
  if (failed(self))
    try_retire(self);
}

// --- a client that moved to another node ----------------------------------

wire_change change_of(self_ptr self, change_kind kind) {
  wire_change c;
  c.kind = static_cast<std::uint8_t>(kind);
  c.client_id = self->state.id;
  return c;
}

void redirect(self_ptr self, debit_atom, debit_job& job) {
  dispatch_debit(*self->state.node, std::move(job.request), std::move(job.done));
}
void redirect(self_ptr self, status_atom, status_job& job) {
  dispatch_change(*self->state.node, change_of(self, change_kind::status), std::move(job.done));
}
void redirect(self_ptr self, forget_atom, status_job& job) {
  dispatch_change(*self->state.node, change_of(self, change_kind::forget), std::move(job.done));
}
void redirect(self_ptr self, define_atom, define_job& job) {
  auto c = change_of(self, change_kind::define);
  for (const auto& d : job.definitions)
    c.definitions.push_back(to_wire(d));
  dispatch_change(*self->state.node, std::move(c), std::move(job.done));
}
void redirect(self_ptr self, usage_atom, usage_job& job) {
  dispatch_usage(*self->state.node, std::move(job.query), std::move(job.done));
}
void redirect(self_ptr self, erase_atom, erase_job& job) {
  auto c = change_of(self, change_kind::erase);
  c.has_from = job.from.has_value();
  c.from = job.from.value_or(0);
  c.has_to = job.to.has_value();
  c.to = job.to.value_or(0);
  dispatch_change(*self->state.node, std::move(c), std::move(job.done));
}
void redirect(self_ptr self, import_atom, import_job& job) {
  auto c = change_of(self, change_kind::import);
  c.import_id = std::move(job.import_id);
  for (const auto& r : job.records)
    c.records.emplace_back(r.at, r.credits);
  dispatch_change(*self->state.node, std::move(c), std::move(job.done));
}

/// Sends everything stored about the client to its new owner, then forgets
/// it here. Jobs arriving meanwhile wait in the mailbox (`await`), and go
/// to the new owner afterwards.
void move_to(self_ptr self, const std::string& target, const caf::actor& peer) {
  auto& st = self->state;
  auto report = [self](bool ok) {
    caf::anon_send(self->state.node->cluster, moved_atom::value, self->state.id, ok);
  };
  if (!st.moved_to.empty()) {
    report(true);
    return;
  }
  st.node->db.wait_committed();
  auto exported = st.node->db.export_client(st.id);
  auto finish = [self, target, report] {
    auto& st = self->state;
    st.node->routes.mark_moved(st.id, target);
    st.moved_to = target;
    st.quotas.clear();
    st.answers.clear();
    st.loaded = true;
    st.node->clients_moved_out.fetch_add(1, std::memory_order_relaxed);
    report(true);
  };
  if (exported.empty()) {
    finish();
    return;
  }
  auto state = to_wire_state(st.id, exported);
  st.moving = true;
  // Through this node's cluster actor: only cluster actors talk across nodes.
  // Jobs wait in the mailbox meanwhile: the timeout keeps that wait within
  // the 5 s a request may wait for a moving client (SPEC §7).
  self->request(st.node->cluster, std::chrono::seconds{4}, adopt_atom::value, peer,
                std::move(state))
    .await(
      [self, finish](bool ok) {
        self->state.moving = false;
        if (!ok) {
          caf::anon_send(self->state.node->cluster, moved_atom::value, self->state.id, false);
          return;
        }
        storage::mutation m{self->state.id};
        m.delete_client();
        submit(self, std::move(m));
        finish();
      },
      [self](caf::error& e) {
        self->state.moving = false;
        spdlog::warn("moving client {} failed: {}", self->state.id, caf::to_string(e));
        caf::anon_send(self->state.node->cluster, moved_atom::value, self->state.id, false);
      });
}

/// Runs a job here, or sends it on if the client lives elsewhere now; then
/// counts it off in the registry.
template <class Atom, class Job, class F>
void run_job(self_ptr self, Atom atom, Job& job, F&& f) {
  // Every job finds the client loaded: jobs are only ever run from here.
  ensure_loaded(self);
  if (!self->state.moved_to.empty())
    redirect(self, atom, job);
  else
    f();
  job_done(self);
}

} // namespace

client_actor::behavior_type
client(client_actor::stateful_pointer<client_state> self, std::string id, node_context* node,
       registry::entry* entry) {
  auto& st = self->state;
  st.id = std::move(id);
  st.node = node;
  st.entry = entry;
  return {
    [self](debit_atom a, debit_job& job) { run_job(self, a, job, [&] { handle_debit(self, job); }); },
    [self](status_atom a, status_job& job) {
      run_job(self, a, job, [&] {
        if (failed(self)) {
          service::client_result r;
          r.result = service::outcome::unavailable;
          r.owner = self->state.node->node_id;
          job.done(std::move(r));
          return;
        }
              if (self->state.quotas.known())
          renew(self);
        reply_status(self, std::move(job.done),
                     self->state.quotas.known() ? service::outcome::ok
                                                : service::outcome::unknown_client);
      });
    },
    [self](define_atom a, define_job& job) { run_job(self, a, job, [&] { handle_define(self, job); }); },
    [self](forget_atom a, status_job& job) { run_job(self, a, job, [&] { handle_forget(self, job); }); },
    [self](usage_atom a, usage_job& job) { run_job(self, a, job, [&] { handle_usage(self, job); }); },
    [self](erase_atom a, erase_job& job) { run_job(self, a, job, [&] { handle_erase(self, job); }); },
    [self](import_atom a, import_job& job) { run_job(self, a, job, [&] { handle_import(self, job); }); },
    [self](committed_atom, std::uint64_t seq, bool ok) { handle_committed(self, seq, ok); },
    [self](tick_atom) { try_retire(self); },
    [self](move_atom, const std::string& target, const caf::actor& peer) {
      ensure_loaded(self);
      move_to(self, target, peer);
      job_done(self);
    },
  };
}

} // namespace quotad::actors
