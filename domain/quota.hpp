// A client's quotas and the debit rule (SPEC §1, §4). Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/credits.hpp"
#include "domain/duration.hpp"
#include "domain/window.hpp"

namespace quotad::domain {

/// One quota definition as the client configured it.
struct definition {
  duration dur = duration::day;
  micro_credits limit = unlimited;  // `unlimited` (-1) or >= 0
  anchor start;                     // start_date resolved in its zone

  bool limited() const { return limit != unlimited; }
};

/// A definition plus its current window and the credits used inside it.
struct quota {
  definition def;
  window current{};
  micro_credits used = 0;

  micro_credits remaining() const;  // -1 if unlimited, else max(0, limit - used)
};

/// At most one definition per duration, so at most seven quotas.
inline constexpr std::size_t max_quotas = 7;

/// Why a list of definitions is rejected as a whole.
struct definitions_error {
  std::size_t index;  // the offending entry
  std::string field;  // e.g. "duration"
  std::string detail; // e.g. "duplicate duration DAY"
};

/// Checks a list: no duplicate duration, limits valid. Sorted by duration
/// on return (shortest first), which every other function here relies on.
std::optional<definitions_error> validate_and_sort(std::vector<definition>& defs);

/// The decision of a debit, before anything is applied.
struct debit_decision {
  bool allowed = false;
  std::uint8_t violated = 0;  // bit i set: quotas[i] has remaining < credits
};

/// A client's complete quota state. `known == false`: never given quotas.
class quota_set {
 public:
  quota_set() = default;

  bool known() const { return known_; }
  std::span<const quota> quotas() const { return quotas_; }
  std::span<quota> quotas() { return quotas_; }

  /// Replaces the definitions (already validated and sorted); windows are
  /// set for `now` with used = 0. The caller then recomputes `used` from
  /// the ledger with `set_used`.
  void assign(const std::vector<definition>& defs, instant now);

  /// Forget everything: the client becomes unknown.
  void clear();

  /// Moves every ended window forward to the one containing `now` (used = 0).
  /// Returns true if any window moved *backwards* (a clock set back), in
  /// which case the caller must recompute `used` from the ledger.
  bool renew(instant now);

  /// Whether `credits` may be debited now (call `renew` first).
  debit_decision decide(micro_credits credits) const;

  /// Adds `credits` to every quota's window (after an allowed decision).
  void apply(micro_credits credits);

  void set_used(std::size_t i, micro_credits used) { quotas_[i].used = used; }

  /// Sets quota i's window as it was recorded (a client moving between
  /// nodes keeps its counters exactly, whatever the ledger's resolution).
  void set_window(std::size_t i, window w, micro_credits used) {
    quotas_[i].current = w;
    quotas_[i].used = used;
  }

  /// The lowest quota (SPEC §4): among limited quotas the one with the
  /// fewest remaining credits, ties to the shorter duration; if none is
  /// limited, the shortest. nullopt when there are no quotas at all.
  std::optional<std::size_t> lowest() const;

  /// On a refusal: the violated quota with the fewest remaining credits.
  std::size_t reported_violation(std::uint8_t violated) const;

  /// On a refusal: the latest window end among the violated quotas.
  instant retry_at(std::uint8_t violated) const;

 private:
  bool known_ = false;
  std::vector<quota> quotas_;  // sorted by duration; heap-held to keep idle clients small
};

} // namespace quotad::domain
