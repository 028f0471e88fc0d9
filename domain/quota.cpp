#include "domain/quota.hpp"

#include <algorithm>

namespace quotad::domain {

micro_credits quota::remaining() const {
  if (!def.limited()) return unlimited;
  return std::max<micro_credits>(0, def.limit - used);
}

std::optional<definitions_error> validate_and_sort(std::vector<definition>& defs) {
  bool seen[all_durations.size()] = {};
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const definition& def = defs[i];
    auto slot = static_cast<std::size_t>(def.dur);
    if (seen[slot])
      return definitions_error{i, "duration", "duplicate duration " + std::string(upper_name(def.dur))};
    seen[slot] = true;
    if (def.limit != unlimited && (def.limit < 0 || def.limit > max_input))
      return definitions_error{i, "credit_limit", "must be -1 or between 0 and 1000000000000"};
    if (def.start.zone == nullptr) return definitions_error{i, "time_zone", "unknown time zone"};
  }
  std::sort(defs.begin(), defs.end(), [](const definition& a, const definition& b) { return a.dur < b.dur; });
  return std::nullopt;
}

void quota_set::assign(const std::vector<definition>& defs, instant now) {
  known_ = true;
  quotas_.clear();
  quotas_.reserve(defs.size());
  for (const definition& def : defs) quotas_.push_back(quota{def, window_at(def.dur, def.start, now), 0});
}

void quota_set::clear() {
  known_ = false;
  std::vector<quota>{}.swap(quotas_);  // release the memory, not just the elements
}

bool quota_set::renew(instant now) {
  bool moved_backwards = false;
  for (quota& q : quotas_) {
    if (q.current.contains(now)) continue;
    window next = window_at(q.def.dur, q.def.start, now);
    if (next.start < q.current.start) moved_backwards = true;
    q.current = next;
    q.used = 0;
  }
  return moved_backwards;
}

debit_decision quota_set::decide(micro_credits credits) const {
  debit_decision decision;
  for (std::size_t i = 0; i < quotas_.size(); ++i) {
    const quota& q = quotas_[i];
    if (q.def.limited() && q.remaining() < credits) decision.violated |= static_cast<std::uint8_t>(1u << i);
  }
  decision.allowed = decision.violated == 0;
  return decision;
}

void quota_set::apply(micro_credits credits) {
  for (quota& q : quotas_) q.used = saturating_add(q.used, credits);
}

std::optional<std::size_t> quota_set::lowest() const {
  if (quotas_.empty()) return std::nullopt;
  std::optional<std::size_t> best;
  // Strict comparison keeps the first, i.e. shorter, of equal quotas.
  for (std::size_t i = 0; i < quotas_.size(); ++i) {
    if (!quotas_[i].def.limited()) continue;
    if (!best || quotas_[i].remaining() < quotas_[*best].remaining()) best = i;
  }
  return best ? *best : 0;
}

std::size_t quota_set::reported_violation(std::uint8_t violated) const {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < quotas_.size(); ++i) {
    if ((violated & (1u << i)) == 0) continue;
    if (!best || quotas_[i].remaining() < quotas_[*best].remaining()) best = i;
  }
  return best ? *best : lowest().value_or(0);  // no bit set: not a refusal
}

instant quota_set::retry_at(std::uint8_t violated) const {
  std::optional<instant> latest;
  for (std::size_t i = 0; i < quotas_.size(); ++i) {
    if ((violated & (1u << i)) == 0) continue;
    if (!latest || quotas_[i].current.end > *latest) latest = quotas_[i].current.end;
  }
  return latest.value_or(instant{});  // no bit set: not a refusal
}

}  // namespace quotad::domain
