// What the broker knows of a client (through the wiring's session lookup, and
// in a cluster the other nodes': mq_peers.cpp), and a close request taken by
// the client's access check.
#include "mq/internal.hpp"

namespace sluice::mq {

using namespace detail;

Result<SessionStatus> MqService::QuerySessionByClientId(std::string_view account_id, std::string_view instance_id,
                                                        std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return std::move(sessions_of(instance_id, {std::string(client_id)}).front());
}

Result<std::vector<SessionStatus>> MqService::BatchQuerySessionByClientIds(std::string_view account_id,
                                                                           std::string_view instance_id,
                                                                           const std::vector<std::string>& ids) {
  if (ids.size() > 100) return bad("ClientIdList", "At most 100 client ids per call.");
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return sessions_of(instance_id, ids);
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
