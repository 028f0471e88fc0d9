#include "cluster/ring.hpp"

#include <algorithm>

namespace quotad::cluster {

std::uint64_t stable_hash(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  // FNV alone clusters similar keys ("client-1", "client-2"); the
  // splitmix64 finalizer spreads them over the ring.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

ring::ring(std::vector<std::string> members, int vnodes) : members_(std::move(members)) {
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
  points_.reserve(members_.size() * static_cast<std::size_t>(vnodes));
  for (std::uint32_t m = 0; m < members_.size(); ++m)
    for (int v = 0; v < vnodes; ++v)
      points_.push_back({stable_hash(members_[m] + "#" + std::to_string(v)), m});
  // Ties (practically impossible) are broken by member so every node agrees.
  std::sort(points_.begin(), points_.end(), [](const point& a, const point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.member < b.member;
  });
}

const std::string& ring::owner(std::string_view client_id) const {
  static const std::string nobody;
  if (points_.empty())
    return nobody;
  auto h = stable_hash(client_id);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const point& p, std::uint64_t x) { return p.hash < x; });
  if (it == points_.end())
    it = points_.begin();
  return members_[it->member];
}

bool ring::contains(std::string_view member) const {
  return std::binary_search(members_.begin(), members_.end(), member);
}

} // namespace quotad::cluster
