// What a mutation holds: its ops with fully encoded keys, replayed into the
// writer's batch. Internal to storage/.
#pragma once

#include <string>
#include <vector>

#include "storage/database.hpp"

namespace quotad::storage {

struct op {
  enum class kind : std::uint8_t { put, merge, erase, erase_range };
  kind k;
  column col;
  std::string key;
  std::string value;  // put/merge: the value; erase_range: the exclusive end key
};

struct mutation::impl {
  std::string client_id;
  std::string prefix;  // codec::client_prefix(client_id)
  std::vector<op> ops;
};

} // namespace quotad::storage
