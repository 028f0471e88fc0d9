// Sends each request to the node that answers for its client: to the local
// client actor, or through the cluster actor to another node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/node_context.hpp"
#include "actors/protocol.hpp"
#include "actors/wire.hpp"

namespace quotad::actors {

/// A request is forwarded at most this often (a view changing under it).
inline constexpr std::uint8_t max_hops = 2;

// Local-only messages to the cluster actor: work for another node.
struct remote_debit {
  std::string target;
  wire_debit_request request;
  service::reply<service::debit_result> done;
};
struct remote_batch {
  std::string target;
  std::vector<wire_debit_request> requests;
  service::reply<std::vector<service::debit_result>> done;
};
struct remote_change {
  std::string target;
  wire_change change;
  service::reply<service::client_result> done;
};
/// An operator removes a member for good (through the coordinator).
struct remove_member_job {
  std::string node_id;
  service::reply<service::outcome> done;
};
struct remote_usage {
  std::string target;
  wire_usage_query query;
  service::reply<service::usage_result> done;
};

void dispatch_debit(node_context& ctx, service::debit_request req,
                    service::reply<service::debit_result> done, std::uint8_t hops = 0);
void dispatch_batch(node_context& ctx, std::vector<service::debit_request> reqs,
                    service::reply<std::vector<service::debit_result>> done,
                    std::uint8_t hops = 0);
void dispatch_change(node_context& ctx, wire_change change,
                     service::reply<service::client_result> done);
void dispatch_usage(node_context& ctx, service::usage_query q,
                    service::reply<service::usage_result> done, std::uint8_t hops = 0);

service::debit_result unavailable_debit(std::string detail);
service::client_result unavailable_client(std::string detail);
service::usage_result unavailable_usage(std::string detail);

} // namespace quotad::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::remote_debit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::remote_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::remote_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::remote_usage)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quotad::actors::remove_member_job)
