// DeviceCredential mode (SPEC §5): "DeviceCredential|<DeviceAccessKeyId>|<InstanceId>",
// password Base64(HMAC-SHA1(DeviceAccessKeySecret, ClientId)). The credential,
// issued by RegisterDeviceCredential, is valid only with its own client id and
// covers every topic of its instance; UnRegister or Refresh drops the device.
#include "mq/auth_modes.hpp"
#include "mq/auth_util.hpp"
#include "mq/mq_service.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

namespace {

using mqtt::Reason;

class DeviceCredentialGrant final : public Credential {
 public:
  explicit DeviceCredentialGrant(std::string key_id) : key_id_(std::move(key_id)) {}
  std::unique_ptr<Credential> clone() const override { return std::make_unique<DeviceCredentialGrant>(*this); }
  PortableCredential portable() const override { return {"DeviceCredential", key_id_}; }

  bool may_publish(const ClientFacts&, const InstanceState&, std::string_view, uint8_t, bool, int64_t,
                   std::string*) override {
    return true;
  }
  bool may_subscribe(const ClientFacts&, const InstanceState&, std::string_view, int64_t, std::string*) override {
    return true;
  }
  bool still_admitted(const ClientFacts& f, const InstanceState& i, int64_t, std::string* why, Notices&) override {
    auto it = i.devices.find(f.client_id);
    if (it == i.devices.end() || it->second.device_access_key_id != key_id_)
      return *why = "device credential unregistered or refreshed", false;
    return true;
  }

 private:
  std::string key_id_;
};

class DeviceCredentialMode final : public AuthMode {
 public:
  std::string_view name() const override { return "DeviceCredential"; }
  bool claims(const broker::ConnectInfo& info) const override { return auth::names_mode(info, "DeviceCredential"); }
  Named named(const Attempt& a) const override { return auth::named_by_user(a, "DeviceCredential"); }

  AuthOutcome authenticate(const Attempt& a) override {
    auto u = *auth::parse_mode_user(a.username, "DeviceCredential");
    const InstanceState* inst = a.state->instance(u.instance_id);
    auto it = a.state->device_keys.find(std::string(u.key_id));
    if (it == a.state->device_keys.end() || it->second.first != u.instance_id || !inst) {
      auth::burn_hmac(a.password, a.client_id);
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword,
                                 "unknown device access key, or one of another instance");
    }
    const auto& d = inst->devices.at(it->second.second);
    if (!secret_equal(a.password, sign_client_id(d.device_access_key_secret, a.client_id)))
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "signature does not match");
    // Proven: the caller holds the device secret, for another client id.
    if (it->second.second != a.client_id)
      return AuthOutcome::refuse(Reason::NotAuthorized, "the credential belongs to another client id");
    return AuthOutcome::ok(std::make_unique<DeviceCredentialGrant>(std::string(u.key_id)));
  }
  // Whether the device is still registered with this key is decided when the will goes out (still_admitted).
  AuthOutcome revive(const ClientFacts&, std::string_view data, int64_t) override {
    return AuthOutcome::ok(std::make_unique<DeviceCredentialGrant>(std::string(data)));
  }
};

}  // namespace

std::unique_ptr<AuthMode> make_device_credential_mode(const AuthDeps&) {
  return std::make_unique<DeviceCredentialMode>();
}

}  // namespace sluice::mq
