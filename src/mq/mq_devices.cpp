// Device credentials (DeviceCredential mode): register, get, refresh,
// unregister, list. Secrets are sealed with the store's secret box (aad = key id).
#include <algorithm>

#include "mq/internal.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

using namespace detail;

namespace {
Error bad_client_id(std::string_view cid) {
  return bad("ClientId", "The client id must be <GroupId>@@@<DeviceId>, at most 64 characters: \"" +
                             std::string(cid.substr(0, 80)) + "\".");
}
bool client_id_shape(std::string_view cid, size_t max) {
  auto g = group_of_client(cid);
  return !g.empty() && cid.size() <= max && cid.size() > g.size() + 3 && valid_group_id(g);
}
}  // namespace

Result<DeviceCredential> MqService::RegisterDeviceCredential(std::string_view account_id,
                                                             std::string_view instance_id,
                                                             std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (!client_id_shape(client_id, state()->instance(instance_id)->inst.settings.max_client_id_length))
    return bad_client_id(client_id);
  DeviceCredential d;
  d.instance_id = instance_id;
  d.client_id = client_id;
  d.device_access_key_id = "DC." + store::random_string(20, store::kAlnum);
  d.device_access_key_secret = store::random_string(30, store::kAlnum);
  d.create_time_ms = d.update_time_ms = now_ms();
  return write(account_id, [&](store::Db& db) -> Result<DeviceCredential> {
    if (db.query("SELECT 1 FROM mq_device_credentials WHERE instance_id = ? AND client_id = ?", instance_id,
                 client_id)
            .step())
      return already_exists("EntityAlreadyExists.DeviceCredential",
                            "The client id \"" + std::string(client_id) +
                                "\" already has a device credential; use GetDeviceCredential or Refresh.");
    db.run("INSERT INTO mq_device_credentials VALUES (?, ?, ?, ?, ?, ?)", d.instance_id, d.client_id,
           d.device_access_key_id,
           store::Blob{store_->box().seal(d.device_access_key_secret, d.device_access_key_id)}, d.create_time_ms,
           d.update_time_ms);
    return d;
  });
}

Result<DeviceCredential> MqService::GetDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                                        std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  auto st = state();
  auto* i = st->instance(instance_id);
  auto it = i->devices.find(std::string(client_id));
  if (it == i->devices.end())
    return not_exist("EntityNotExist.DeviceCredential",
                     "The client id \"" + std::string(client_id) + "\" has no device credential.");
  return it->second;
}

Result<DeviceCredential> MqService::RefreshDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                                            std::string_view client_id) {
  auto cur = GetDeviceCredential(account_id, instance_id, client_id);
  if (!cur) return cur.error();
  DeviceCredential d = *cur;
  d.device_access_key_id = "DC." + store::random_string(20, store::kAlnum);
  d.device_access_key_secret = store::random_string(30, store::kAlnum);
  d.update_time_ms = now_ms();
  return write(account_id, [&](store::Db& db) -> Result<DeviceCredential> {
    db.run("UPDATE mq_device_credentials SET key_id = ?, secret = ?, updated_ms = ? WHERE instance_id = ? AND "
           "client_id = ?",
           d.device_access_key_id,
           store::Blob{store_->box().seal(d.device_access_key_secret, d.device_access_key_id)}, d.update_time_ms,
           instance_id, client_id);
    return d;
  });
}

Status MqService::UnRegisterDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                             std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  return write(account_id, [&](store::Db& db) -> Status {
    if (db.run("DELETE FROM mq_device_credentials WHERE instance_id = ? AND client_id = ?", instance_id, client_id) ==
        0)
      return not_exist("EntityNotExist.DeviceCredential",
                       "The client id \"" + std::string(client_id) + "\" has no device credential.");
    return {};
  });
}

Result<std::vector<std::string>> MqService::ListDeviceCredentialClientId(std::string_view account_id,
                                                                         std::string_view instance_id,
                                                                         std::string_view group_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  auto st = state();
  std::vector<std::string> out;
  for (const auto& [cid, d] : st->instance(instance_id)->devices)
    if (group_id.empty() || group_of_client(cid) == group_id) out.push_back(cid);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice::mq
