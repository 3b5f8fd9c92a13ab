#pragma once
// A rule's TargetConfig at rest and as shown (issue 19). It may hold credentials (a webhook
// Secret, a password in a NATS or PostgreSQL URL), so the control store keeps it
// sealed under the master key like every other secret ("sealed1:" + base64 of
// the secret box's blob), bound to its rule (instance and name as the
// associated data: a sealed config cannot be moved to another rule). A row
// written before sealing (plain JSON) still reads.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::store {
class SecretBox;
}

namespace sluice::mq {

std::string seal_target_config(const store::SecretBox& box, std::string_view instance_id, std::string_view name,
                               std::string_view config);
// nullopt: sealed by another key, or altered.
std::optional<std::string> open_target_config(const store::SecretBox& box, std::string_view instance_id,
                                              std::string_view name, std::string_view stored);

// As every answer and listing shows it (the API, `sluice admin rules`): a
// webhook's Secret and a password in a Url as "******".
std::string shown_target_config(const std::string& config);

}  // namespace sluice::mq
