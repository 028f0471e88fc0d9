// Who answers for a client: read on every request by the front door's
// threads, replaced by the cluster actor whenever the member list changes.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/membership.hpp"

namespace quotad::actors {

/// One immutable picture of the cluster.
struct routing_snapshot {
  std::string self;
  cluster::view view;
  cluster::ring current;  // owners now
  cluster::ring next;     // owners once the change in progress completes
  bool changing = false;

  routing_snapshot(std::string self_id, cluster::view v);

  /// Whether this node is a settled member that may answer for clients.
  bool joined() const;
  bool is_down(std::string_view node_id) const;
};

class routing {
 public:
  explicit routing(std::shared_ptr<const routing_snapshot> first) : snapshot_(std::move(first)) {}

  std::shared_ptr<const routing_snapshot> get() const {
    std::lock_guard lock{mutex_};
    return snapshot_;
  }
  void set(std::shared_ptr<const routing_snapshot> s) {
    std::lock_guard lock{mutex_};
    snapshot_ = std::move(s);
    if (!snapshot_->changing)
      moved_.clear();
  }

  /// The member that answers for `client_id` now ("" when none can: this
  /// node has not joined yet). During a change, a client that already moved
  /// is answered by its new owner.
  std::string owner(std::string_view client_id) const;

  void mark_moved(const std::string& client_id, const std::string& target) {
    std::lock_guard lock{mutex_};
    moved_[client_id] = target;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const routing_snapshot> snapshot_;
  std::unordered_map<std::string, std::string> moved_;  // only during a change
};

} // namespace quotad::actors
