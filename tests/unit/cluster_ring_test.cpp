#include "cluster/ring.hpp"

#include <map>

#include <gtest/gtest.h>

using quotad::cluster::ring;
using quotad::cluster::stable_hash;

namespace {

std::vector<std::string> client_ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back("client-" + std::to_string(i));
  return ids;
}

} // namespace

TEST(stable_hash, is_fixed_across_builds) {
  // Computed independently (FNV-1a 64, then the splitmix64 finalizer):
  // nodes of different builds must agree on every owner.
  EXPECT_EQ(stable_hash(""), 17665956581633026203ULL);
  EXPECT_EQ(stable_hash("a"), 198367012849983736ULL);
  EXPECT_EQ(stable_hash("client-1"), 4085887618957778098ULL);
}

TEST(ring, same_owner_whatever_the_member_order) {
  ring a{{"node-a", "node-b", "node-c"}};
  ring b{{"node-c", "node-a", "node-b", "node-a"}};
  ASSERT_EQ(a.members(), b.members());
  for (const auto& id : client_ids(5000))
    ASSERT_EQ(a.owner(id), b.owner(id)) << id;
}

TEST(ring, spreads_clients_evenly) {
  ring r{{"node-a", "node-b", "node-c"}};
  std::map<std::string, int> count;
  for (const auto& id : client_ids(30000))
    ++count[r.owner(id)];
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [member, n] : count) {
    // 10,000 each on average; 128 virtual nodes keep each within ±20%.
    EXPECT_GT(n, 8000) << member;
    EXPECT_LT(n, 12000) << member;
  }
}

TEST(ring, a_new_member_takes_about_a_quarter_and_nothing_else_moves) {
  ring before{{"node-a", "node-b", "node-c"}};
  ring after{{"node-a", "node-b", "node-c", "node-d"}};
  int moved = 0;
  auto ids = client_ids(40000);
  for (const auto& id : ids) {
    if (before.owner(id) != after.owner(id)) {
      ++moved;
      ASSERT_EQ(after.owner(id), "node-d") << id << " moved between old members";
    }
  }
  // 1/4 of 40,000 is 10,000.
  EXPECT_GT(moved, 8000);
  EXPECT_LT(moved, 12000);
}

TEST(ring, a_removed_member_hands_on_only_its_own_clients) {
  ring before{{"node-a", "node-b", "node-c", "node-d"}};
  ring after{{"node-a", "node-c", "node-d"}};
  for (const auto& id : client_ids(20000)) {
    if (before.owner(id) != "node-b")
      ASSERT_EQ(before.owner(id), after.owner(id)) << id;
    else
      ASSERT_NE(after.owner(id), "node-b");
  }
}

TEST(ring, a_single_member_owns_everything) {
  ring r{{"solo"}};
  EXPECT_TRUE(r.contains("solo"));
  EXPECT_FALSE(r.contains("other"));
  for (const auto& id : client_ids(100))
    EXPECT_EQ(r.owner(id), "solo");
}
