// OnsMqtt device credentials (the DeviceCredential authentication mode): one
// access key pair per client id.
#include "api/onsmqtt_internal.hpp"
#include "api/ops_util.hpp"
#include "mq/mq_service.hpp"

namespace sluice::api::onsmqtt {

namespace {

void write_cred(JsonWriter& w, const mq::DeviceCredential& d) {
  w.key("DeviceCredential").begin_object();
  w.field("ClientId", d.client_id);
  w.field("InstanceId", d.instance_id);
  w.field("DeviceAccessKeyId", d.device_access_key_id);
  w.field("DeviceAccessKeySecret", d.device_access_key_secret);
  w.field("CreateTime", d.create_time_ms);
  w.field("UpdateTime", d.update_time_ms);
  w.end_object();
}
template <class F>
void cred_op(Call& c, const char* op, F f) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), client = c.req("ClientId");
  authz(c, op, id);
  f(m, id, client);
}
void RegisterDeviceCredential(Call& c) {
  cred_op(c, "RegisterDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    write_cred(c.out(), unwrap(m.RegisterDeviceCredential(c.account(), id, cl)));
  });
}
// The answer carries DeviceAccessKeySecret, which connects as that device and
// reaches every topic of the instance. So the secret goes only to a principal
// allowed to mint one — mq:RegisterDeviceCredential on the instance, besides
// mq:GetDeviceCredential — never through a read-only grant (mq:Get*). Anyone
// else is refused with NoPermission naming that action (not answered without
// the field: SDK code reading the secret fails loudly instead of using "").
void GetDeviceCredential(Call& c) {
  cred_op(c, "GetDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    const std::string ia = inst_arn(c, id);
    try {
      c.authorize_on("mq:RegisterDeviceCredential", std::span<const std::string>(&ia, 1), "instance", id);
    } catch (ApiError& e) {
      e.message += " GetDeviceCredential returns the device's secret, so it needs the right to register one too.";
      throw;
    }
    write_cred(c.out(), unwrap(m.GetDeviceCredential(c.account(), id, cl)));
  });
}
void RefreshDeviceCredential(Call& c) {
  cred_op(c, "RefreshDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    write_cred(c.out(), unwrap(m.RefreshDeviceCredential(c.account(), id, cl)));
  });
}
void UnRegisterDeviceCredential(Call& c) {
  cred_op(c, "UnRegisterDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    unwrap(m.UnRegisterDeviceCredential(c.account(), id, cl));
  });
}
void ListDeviceCredentialClientId(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId");
  auto group = c.req("GroupId");
  authz(c, "ListDeviceCredentialClientId", id);
  auto ids = unwrap(m.ListDeviceCredentialClientId(c.account(), id, group));
  // The cloud's model gives PageNo, PageSize and Total as strings.
  const int64_t no = c.opt_int("PageNo", 1, 1, 1'000'000'000), size = c.opt_int("PageSize", 50, 1, 100);
  const size_t begin = std::min(ids.size(), static_cast<size_t>((no - 1) * size));
  const size_t end = std::min(ids.size(), begin + static_cast<size_t>(size));
  auto& w = c.out();
  w.key("DeviceCredentialClientIdList").begin_object();
  w.field("PageNo", std::to_string(no));
  w.field("PageSize", std::to_string(size));
  w.field("Total", std::to_string(ids.size()));
  w.key("ClientIdList").begin_array();
  for (size_t i = begin; i < end; ++i) w.value(ids[i]);
  w.end_array();
  w.field("NextToken", end < ids.size() ? std::to_string(end) : std::string());
  w.end_object();
}

}  // namespace

void add_device_operations(Registry& r) {
  add(r, {
      {"RegisterDeviceCredential", RegisterDeviceCredential},
      {"GetDeviceCredential", GetDeviceCredential},
      {"RefreshDeviceCredential", RefreshDeviceCredential},
      {"UnRegisterDeviceCredential", UnRegisterDeviceCredential},
      {"ListDeviceCredentialClientId", ListDeviceCredentialClientId},
  });
}

}  // namespace sluice::api::onsmqtt
