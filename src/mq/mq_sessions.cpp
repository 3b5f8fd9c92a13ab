// What the broker knows of a client (through the wiring's session lookup), and
// closing a client's connection (asked of its access check, in this process).
#include "mq/internal.hpp"

namespace sluice::mq {

using namespace detail;

Result<SessionStatus> MqService::QuerySessionByClientId(std::string_view account_id, std::string_view instance_id,
                                                        std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  SessionStatus st;
  if (session_lookup_)
    if (auto found = session_lookup_(instance_id, client_id)) st = std::move(*found);
  st.instance_id = instance_id;
  st.client_id = client_id;
  return st;
}

Result<std::vector<SessionStatus>> MqService::BatchQuerySessionByClientIds(std::string_view account_id,
                                                                           std::string_view instance_id,
                                                                           const std::vector<std::string>& ids) {
  if (ids.size() > 100) return bad("ClientIdList", "At most 100 client ids per call.");
  std::vector<SessionStatus> out;
  for (const auto& id : ids) {
    auto r = QuerySessionByClientId(account_id, instance_id, id);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

Status MqService::CloseConnection(std::string_view account_id, std::string_view instance_id,
                                  std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  {
    std::lock_guard lk(close_mu_);
    close_requests_.insert(std::string(instance_id) + '\x1f' + std::string(client_id));
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);  // wakes the connection's access check
  return {};
}

bool MqService::take_close_request(std::string_view instance_id, std::string_view client_id) {
  std::lock_guard lk(close_mu_);
  if (close_requests_.empty()) return false;
  auto it = close_requests_.find(std::string(instance_id) + '\x1f' + std::string(client_id));
  if (it == close_requests_.end()) return false;
  close_requests_.erase(it);
  return true;
}

}  // namespace sluice::mq
