#include "cluster/membership.hpp"

#include <gtest/gtest.h>

using namespace quotad::cluster;

namespace {

view three_up() {
  view v;
  v.epoch = 5;
  v.upsert({"node-c", "127.0.0.1:8083", "127.0.0.1:4803", member_state::up});
  v.upsert({"node-a", "127.0.0.1:8081", "127.0.0.1:4801", member_state::up});
  v.upsert({"node-b", "127.0.0.1:8082", "127.0.0.1:4802", member_state::up});
  return v;
}

} // namespace

TEST(view, keeps_members_sorted_and_unique) {
  auto v = three_up();
  ASSERT_EQ(v.members.size(), 3u);
  EXPECT_EQ(v.members[0].node_id, "node-a");
  EXPECT_EQ(v.members[2].node_id, "node-c");
  v.upsert({"node-b", "h", "c", member_state::down});
  ASSERT_EQ(v.members.size(), 3u);
  EXPECT_EQ(v.find("node-b")->state, member_state::down);
  v.erase("node-b");
  EXPECT_EQ(v.find("node-b"), nullptr);
}

TEST(view, the_lowest_up_member_coordinates) {
  auto v = three_up();
  EXPECT_EQ(v.coordinator(), "node-a");
  v.find("node-a")->state = member_state::down;
  EXPECT_EQ(v.coordinator(), "node-b");
  v.find("node-b")->state = member_state::joining;
  EXPECT_EQ(v.coordinator(), "node-c");
  v.find("node-c")->state = member_state::down;
  EXPECT_EQ(v.coordinator(), std::nullopt);
}

TEST(view, a_joiner_owns_nothing_until_the_change_completes) {
  auto v = three_up();
  EXPECT_FALSE(v.changing());
  v.upsert({"node-d", "h", "c", member_state::joining});
  EXPECT_TRUE(v.changing());
  EXPECT_FALSE(v.current_ring().contains("node-d"));
  EXPECT_TRUE(v.next_ring().contains("node-d"));
  EXPECT_EQ(v.current_ring().members().size(), 3u);
  EXPECT_EQ(v.next_ring().members().size(), 4u);
}

TEST(view, a_leaver_owns_its_clients_until_they_moved) {
  auto v = three_up();
  v.find("node-b")->state = member_state::leaving;
  EXPECT_TRUE(v.changing());
  EXPECT_TRUE(v.current_ring().contains("node-b"));
  EXPECT_FALSE(v.next_ring().contains("node-b"));
}

TEST(view, a_down_member_keeps_its_clients) {
  auto v = three_up();
  v.find("node-c")->state = member_state::down;
  EXPECT_FALSE(v.changing());
  EXPECT_TRUE(v.current_ring().contains("node-c"));
  EXPECT_FALSE(v.all_up());
}
