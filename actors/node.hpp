// A quotad node: the actor system, the registry of client actors, and the
// `quota_service` the front door calls. CAF stays behind this header.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>
#include <string>

#include "actors/settings.hpp"
#include "service/clock.hpp"
#include "storage/database.hpp"
#include "service/quota_service.hpp"

namespace quotad::actors {

struct node_options {
  std::string node_id;
  std::string cluster_host = "127.0.0.1";
  std::uint16_t cluster_port = 4801;
  std::vector<std::string> seeds;  // HOST:PORT of nodes to join through
  /// What an admin's leave request does: the process's own graceful stop.
  std::function<void()> on_leave_request;
  std::string http_address;     // as members see it, for /v1/cluster
  std::string cluster_address;
  node_settings settings;
  std::size_t scheduler_threads = 2;
};

class node final : public service::quota_service {
 public:
  node(storage::database& db, service::node_clock& clock, node_options opts);
  ~node() override;

  /// Opens the cluster port and joins through the seeds (or starts a
  /// cluster of one). False, with a message, when the port cannot be bound.
  bool start(std::string& error);

  /// Hands this node's clients on and leaves the cluster; returns when done
  /// or after `timeout`.
  void leave(std::chrono::seconds timeout);

  /// Stops every client actor once its pending writes are done; idempotent.
  void stop();

  void set_quotas(std::string client_id, std::vector<domain::definition> defs,
                  service::reply<service::client_result> done) override;
  void get_quotas(std::string client_id, service::reply<service::client_result> done) override;
  void delete_client(std::string client_id, service::reply<service::client_result> done) override;
  void debit(service::debit_request req, service::reply<service::debit_result> done) override;
  void debit_batch(std::vector<service::debit_request> reqs,
                   service::reply<std::vector<service::debit_result>> done) override;
  void usage(service::usage_query q, service::reply<service::usage_result> done) override;
  void delete_usage(std::string client_id, std::optional<std::int64_t> from,
                    std::optional<std::int64_t> to,
                    service::reply<service::client_result> done) override;
  void import_usage(std::string client_id, std::string import_id,
                    std::vector<service::usage_record> records,
                    service::reply<service::client_result> done) override;

  void remove_member(std::string node_id, service::reply<service::outcome> done) override;
  void leave_cluster() override;

  bool ready() const override;
  std::string node_id() const override;
  service::cluster_info cluster() const override;
  void append_metrics(std::string& out) const override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace quotad::actors
