// Consistent hashing of client ids onto member nodes, with virtual nodes.
//
// Every node computes the same owner from the same member list, whatever
// its order; adding a member moves only the clients that the new member
// takes over (about 1/N of them), removing one moves only its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quotad::cluster {

/// A hash that is the same on every node and every build (FNV-1a 64 with a
/// final mix), unlike std::hash.
std::uint64_t stable_hash(std::string_view bytes);

class ring {
 public:
  static constexpr int default_vnodes = 128;

  ring() = default;
  explicit ring(std::vector<std::string> members, int vnodes = default_vnodes);

  /// The member that owns `client_id`; "" when the ring is empty.
  const std::string& owner(std::string_view client_id) const;

  bool empty() const { return members_.empty(); }
  /// Sorted, without duplicates.
  const std::vector<std::string>& members() const { return members_; }
  bool contains(std::string_view member) const;

 private:
  struct point {
    std::uint64_t hash;
    std::uint32_t member;  // index into members_
  };
  std::vector<std::string> members_;
  std::vector<point> points_;  // sorted by hash
};

} // namespace quotad::cluster
