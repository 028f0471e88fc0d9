// Key and value encodings of the store.
#include <gtest/gtest.h>

#include <climits>
#include <stdexcept>

#include "storage/codec.hpp"

namespace quotad::storage {
namespace {

using namespace std::string_literals;

TEST(storage_codec, time_bytes_sort_like_numbers_including_negative) {
  const std::vector<std::int64_t> times{INT64_MIN, INT64_MIN + 1, -86'400, -1, 0, 1, 900, INT64_MAX - 1, INT64_MAX};
  std::string previous;
  for (std::int64_t t : times) {
    std::string bytes;
    codec::append_time(bytes, t);
    ASSERT_EQ(bytes.size(), 8u);
    EXPECT_EQ(codec::read_time(bytes), t);
    if (!previous.empty()) {
      EXPECT_LT(previous, bytes) << "at " << t;
    }
    previous = bytes;
  }
  std::string zero;
  codec::append_time(zero, 0);
  EXPECT_EQ(zero, "\x80\0\0\0\0\0\0\0"s);
}

TEST(storage_codec, client_prefixes_never_prefix_each_other) {
  EXPECT_EQ(codec::client_prefix("a"), "\0\x01"s "a");
  EXPECT_EQ(codec::client_prefix("ab"), "\0\x02"s "ab");
  const std::string a = codec::client_prefix("a");
  const std::string ab = codec::client_prefix("ab");
  EXPECT_NE(ab.compare(0, a.size(), a), 0);
  // The 256-byte maximum of the service uses the high length byte.
  EXPECT_EQ(codec::client_prefix(std::string(256, 'x')).substr(0, 2), "\x01\0"s);
  EXPECT_THROW(codec::client_prefix(std::string(65'536, 'x')), std::invalid_argument);
  EXPECT_NO_THROW(codec::client_prefix(std::string(65'535, 'x')));
}

TEST(storage_codec, prefix_end_bounds_exactly_the_prefix_range) {
  EXPECT_EQ(codec::prefix_end("\0\x01"s "a"), "\0\x01"s "b");
  EXPECT_EQ(codec::prefix_end("\0\x01\xff"s), "\0\x02"s);
  const std::string p = codec::client_prefix("\xff\xff"s);
  const std::string end = codec::prefix_end(p);
  EXPECT_EQ(end, "\0\x03"s);
  EXPECT_LT(codec::ledger_key("\xff\xff"s, INT64_MAX), end);
  EXPECT_GT(codec::ledger_key("\xff\xff"s, INT64_MIN), p);
}

TEST(storage_codec, ledger_key_time_reads_back_and_rejects_other_sizes) {
  const std::string key = codec::ledger_key("client", -12345);
  const std::size_t prefix = codec::client_prefix("client").size();
  EXPECT_EQ(codec::ledger_key_time(key, prefix), -12345);
  EXPECT_EQ(codec::ledger_key_time(key.substr(0, key.size() - 1), prefix), std::nullopt);
  EXPECT_EQ(codec::ledger_key_time(key + "x", prefix), std::nullopt);
}

TEST(storage_codec, credits_values_are_eight_little_endian_bytes) {
  EXPECT_EQ(codec::encode_credits(1), "\x01\0\0\0\0\0\0\0"s);
  EXPECT_EQ(codec::decode_credits(codec::encode_credits(-5)), -5);
  EXPECT_EQ(codec::decode_credits(codec::encode_credits(INT64_MAX)), INT64_MAX);
  EXPECT_EQ(codec::decode_credits("1234567"), std::nullopt);
  EXPECT_EQ(codec::decode_credits("123456789"), std::nullopt);
}

TEST(storage_codec, saturating_add_clamps_both_ways) {
  EXPECT_EQ(codec::saturating_add(2, 3), 5);
  EXPECT_EQ(codec::saturating_add(INT64_MAX - 1, 1), INT64_MAX);
  EXPECT_EQ(codec::saturating_add(INT64_MAX, 1), INT64_MAX);
  EXPECT_EQ(codec::saturating_add(INT64_MAX, INT64_MAX), INT64_MAX);
  EXPECT_EQ(codec::saturating_add(INT64_MIN, -1), INT64_MIN);
  EXPECT_EQ(codec::saturating_add(INT64_MAX, -1), INT64_MAX - 1);
}

TEST(storage_codec, definitions_round_trip_and_reject_damage) {
  const auto* berlin = domain::find_zone("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  std::vector<domain::definition> defs{
    {domain::duration::hour, 0, domain::anchor::make(domain::from_epoch(-3600), domain::find_zone("UTC"))},
    {domain::duration::month, 2'500'000, domain::anchor::make(domain::from_epoch(1'640'991'600), berlin)},
  };
  const std::string v = codec::encode_definitions(defs);
  EXPECT_EQ(v[0], 1);  // format version
  auto back = codec::decode_definitions(v);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].dur, domain::duration::hour);
  EXPECT_EQ((*back)[0].limit, 0);
  EXPECT_EQ(domain::to_epoch((*back)[0].start.at), -3600);
  EXPECT_EQ((*back)[1].start.zone, berlin);
  EXPECT_EQ((*back)[1].start.local, defs[1].start.local);

  EXPECT_EQ(codec::decode_definitions(""), std::nullopt);
  EXPECT_EQ(codec::decode_definitions(v.substr(0, v.size() - 1)), std::nullopt);
  EXPECT_EQ(codec::decode_definitions(v + "x"), std::nullopt);
  std::string wrong_version = v;
  wrong_version[0] = 2;
  EXPECT_EQ(codec::decode_definitions(wrong_version), std::nullopt);
  std::string bad_duration = v;
  bad_duration[2] = 7;  // first definition's duration byte
  EXPECT_EQ(codec::decode_definitions(bad_duration), std::nullopt);
  std::string bad_zone = v;
  bad_zone.replace(bad_zone.size() - 6, 6, "Berlix");  // "Europe/Berlin" → "Europe/Berlix"
  EXPECT_EQ(codec::decode_definitions(bad_zone), std::nullopt);

  auto none = codec::decode_definitions(codec::encode_definitions({}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(storage_codec, answers_and_imports_round_trip_and_reject_damage) {
  const stored_answer a{5'000'000, -1, -7, 1'700'000'000};
  const std::string v = codec::encode_answer(a);
  EXPECT_EQ(v.size(), 33u);
  auto back = codec::decode_answer(v);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->credits, 5'000'000);
  EXPECT_EQ(back->remaining, -1);
  EXPECT_EQ(back->reset, -7);
  EXPECT_EQ(back->expires, 1'700'000'000);
  EXPECT_EQ(codec::decode_answer(v.substr(1)), std::nullopt);
  EXPECT_EQ(codec::decode_answer(v + "\0"s), std::nullopt);

  EXPECT_EQ(codec::decode_import(codec::encode_import(-42)), -42);
  EXPECT_EQ(codec::decode_import("\x01"s), std::nullopt);
}

TEST(storage_codec, windows_round_trip) {
  const auto* utc = domain::find_zone("UTC");
  std::vector<domain::definition> defs{
    {domain::duration::minute, 10'000'000, domain::anchor::make(domain::from_epoch(0), utc)},
    {domain::duration::day, domain::unlimited, domain::anchor::make(domain::from_epoch(0), utc)},
  };
  domain::quota_set qs;
  qs.assign(defs, domain::from_epoch(86'400 + 61));
  qs.set_used(0, 3);
  qs.set_used(1, 4);
  auto back = codec::decode_windows(codec::encode_windows(qs, -900));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->rolled_until, -900);
  ASSERT_EQ(back->windows.size(), 2u);
  EXPECT_EQ(back->windows[0], (domain::window{domain::from_epoch(86'460), domain::from_epoch(86'520)}));
  EXPECT_EQ(back->windows[1], (domain::window{domain::from_epoch(86'400), domain::from_epoch(172'800)}));
  EXPECT_EQ(back->used, (std::vector<domain::micro_credits>{3, 4}));
  EXPECT_EQ(codec::decode_windows("\x01"s), std::nullopt);
}

} // namespace
} // namespace quotad::storage
