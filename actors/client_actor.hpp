// The actor that owns one client's quotas: it serializes the client's
// debits, renewals and changes, and answers only after the changes an answer
// reflects are on disk.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "actors/node_context.hpp"
#include "actors/protocol.hpp"
#include "actors/registry.hpp"

namespace quotad::actors {

/// What the write path's completions share with the actor: they run on
/// the writer thread, and answer debits from there directly.
struct commit_sync {
  std::atomic<std::uint64_t> committed{0};  // last mutation written
  std::atomic<bool> failed{false};          // a write failed: nothing here is trusted
  std::atomic<bool> waiters{false};         // the actor holds replies until commits
};

struct client_state {
  /// A reply held back until mutation `after` is committed.
  struct pending_reply {
    std::uint64_t after;
    std::function<void(bool ok)> send;
  };
  /// A successful debit's answer whose mutation is not committed yet, so
  /// that a repeated key is recognized before it reaches the disk.
  struct pending_answer {
    std::uint64_t seq;
    std::string key;
    storage::stored_answer answer;
  };

  std::string id;
  node_context* node = nullptr;
  registry::entry* entry = nullptr;

  bool loaded = false;
  domain::quota_set quotas;
  std::int64_t rolled_until = 0;

  std::uint64_t submitted = 0;  // last mutation handed to the write path
  std::shared_ptr<commit_sync> sync = std::make_shared<commit_sync>();
  std::vector<pending_reply> replies;
  std::vector<pending_answer> answers;
  /// Set once the client belongs to another node: jobs go there.
  std::string moved_to;
  bool moving = false;  // waiting for the new owner to adopt the client

  static inline const char* name = "quotad.client";
};

client_actor::behavior_type
client(client_actor::stateful_pointer<client_state> self, std::string id, node_context* node,
       registry::entry* entry);

} // namespace quotad::actors
