#include "storage/codec.hpp"
#include "storage/mutation_impl.hpp"

namespace quotad::storage {

mutation::mutation(std::string_view client_id) : impl_(std::make_unique<impl>()) {
  impl_->prefix = codec::client_prefix(client_id);  // throws for oversized ids
  impl_->client_id = std::string(client_id);
}

mutation::mutation(mutation&&) noexcept = default;
mutation& mutation::operator=(mutation&&) noexcept = default;
mutation::~mutation() = default;

void mutation::put_definitions(const std::vector<domain::definition>& defs) {
  impl_->ops.push_back({op::kind::put, column::definitions, impl_->prefix, codec::encode_definitions(defs)});
}

void mutation::put_windows(const domain::quota_set& quotas, std::int64_t rolled_until) {
  impl_->ops.push_back(
      {op::kind::put, column::windows, impl_->prefix, codec::encode_windows(quotas, rolled_until)});
}

void mutation::add_usage(std::int64_t at, micro_credits credits) {
  std::string key = impl_->prefix;
  codec::append_time(key, at);
  impl_->ops.push_back({op::kind::merge, column::ledger, std::move(key), codec::encode_credits(credits)});
}

void mutation::delete_usage(std::int64_t from, std::int64_t to) {
  if (from > to) return;
  std::string begin = impl_->prefix;
  codec::append_time(begin, from);
  std::string end;
  if (to == INT64_MAX) {
    end = codec::prefix_end(impl_->prefix);
  } else {
    end = impl_->prefix;
    codec::append_time(end, to + 1);
  }
  impl_->ops.push_back({op::kind::erase_range, column::ledger, std::move(begin), std::move(end)});
}

void mutation::put_answer(std::string_view idempotency_key, const stored_answer& answer) {
  std::string key = impl_->prefix;
  key.append(idempotency_key);
  impl_->ops.push_back({op::kind::put, column::idempotency, std::move(key), codec::encode_answer(answer)});
}

void mutation::put_import(std::string_view import_id, std::int64_t applied_at) {
  std::string key = impl_->prefix;
  key.append(import_id);
  impl_->ops.push_back({op::kind::put, column::imports, std::move(key), codec::encode_import(applied_at)});
}

void mutation::delete_client() {
  impl_->ops.push_back({op::kind::erase, column::definitions, impl_->prefix, {}});
  impl_->ops.push_back({op::kind::erase, column::windows, impl_->prefix, {}});
  const std::string end = codec::prefix_end(impl_->prefix);
  for (column c : {column::ledger, column::idempotency, column::imports})
    impl_->ops.push_back({op::kind::erase_range, c, impl_->prefix, end});
}

bool mutation::empty() const { return !impl_ || impl_->ops.empty(); }

std::string_view mutation::client_id() const { return impl_->client_id; }

} // namespace quotad::storage
