#include "mq/mq_access.hpp"

#include <algorithm>
#include <chrono>

#include "common/log.hpp"
#include "iam/authorizer.hpp"
#include "mq/auth_modes.hpp"
#include "mq/cert_auth.hpp"
#include "mq/client_access.hpp"
#include "mq/mq_service.hpp"
#include "mq/portable_identity.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

using broker::Admission;
using broker::ConnectInfo;
using mqtt::Reason;

MqAccessControl::MqAccessControl(broker::Broker& broker, MqService& mq, iam::Authorizer& authz, AccessOptions opts,
                                 std::shared_ptr<AuditSink> audit)
    : MqAccessControl(broker,
                      standard_auth_modes(AuthDeps{&mq, &authz, opts.default_instance, opts.token_notice_lead_ms}),
                      &mq, &authz, opts, std::move(audit)) {}

MqAccessControl::MqAccessControl(broker::Broker& broker, std::vector<std::unique_ptr<AuthMode>> modes, MqService* mq,
                                 iam::Authorizer* authz, AccessOptions opts, std::shared_ptr<AuditSink> audit)
    : broker_(broker), modes_(std::move(modes)), mq_(mq), authz_(authz), opts_(std::move(opts)),
      audit_(audit ? std::move(audit) : std::make_shared<LogAuditSink>()) {}

std::unique_ptr<MqAccessControl> MqAccessControl::anonymous(broker::Broker& broker) {
  // The default namespace exists before the broker's state is read back: a
  // restart restores only the sessions of namespaces that exist.
  (void)broker.get_or_create("");
  std::vector<std::unique_ptr<AuthMode>> modes;
  modes.push_back(make_anonymous_mode());
  return std::make_unique<MqAccessControl>(broker, std::move(modes), nullptr, nullptr);
}

MqAccessControl::~MqAccessControl() = default;

int64_t MqAccessControl::now_ms() const {
  if (mq_) return mq_->now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void MqAccessControl::audit(AuditEvent e) { audit_->record(e); }

std::shared_ptr<broker::WillGuard> MqAccessControl::will_guard_for(std::string_view identity) {
  ClientFacts f;
  PortableCredential c;
  if (!decode_identity(identity, f, c)) return refused_will_guard(*this, {}, "the will's identity cannot be read");
  for (auto& m : modes_)
    if (m->name() == c.mode) {
      auto o = m->revive(f, c.data, now_ms());
      if (o.reason != Reason::Success || !o.credential) return refused_will_guard(*this, std::move(f), o.why);
      return revived_will_guard(*this, std::move(f), std::move(o.credential));
    }
  return refused_will_guard(*this, std::move(f),
                            c.mode.empty() ? "its credential cannot be carried to another node"
                                           : "authentication mode " + c.mode + " is not offered here");
}

void MqAccessControl::trace(std::string_view instance_id, DeviceTrace t) {
  if (instance_id.empty() || !mq_) return;
  auto s = mq_->state();
  auto* i = s->instance(instance_id);
  if (!i || !i->inst.settings.tracing) return;
  mq_->traces().device(instance_id, std::move(t));
}

std::shared_ptr<InstanceRate> MqAccessControl::instance_rate(const std::string& instance_id) {
  if (auto ns = broker_.find(instance_id)) return std::shared_ptr<InstanceRate>(ns, &ns->publish_rate());
  std::lock_guard lk(conn_mu_);
  auto& r = rates_[instance_id];
  if (!r) r = std::make_shared<InstanceRate>();
  return r;
}

void MqAccessControl::connection_closed(const std::string& instance_id) {
  std::lock_guard lk(conn_mu_);
  auto it = connections_.find(instance_id);
  if (it != connections_.end() && it->second > 0 && --it->second == 0) connections_.erase(it);
}

bool MqAccessControl::rate_limited(std::string_view peer, int64_t now) {
  std::lock_guard lk(fail_mu_);
  if (fail_buckets_.empty()) return false;
  auto it = fail_buckets_.find(std::string(peer));
  if (it == fail_buckets_.end()) return false;
  auto& b = it->second;
  b.tokens = std::min(opts_.auth_fail_burst, b.tokens + (now - b.last_ms) / 1000.0 * opts_.auth_fail_per_second);
  b.last_ms = now;
  return b.tokens < 1.0;
}

void MqAccessControl::note_failure(std::string_view peer, int64_t now) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lk(fail_mu_);
  if (fail_buckets_.size() > 100000) fail_buckets_.clear();  // bounded under a flood of addresses
  auto [it, fresh] = fail_buckets_.try_emplace(std::string(peer), Bucket{opts_.auth_fail_burst, now});
  auto& b = it->second;
  if (!fresh)
    b.tokens = std::min(opts_.auth_fail_burst, b.tokens + (now - b.last_ms) / 1000.0 * opts_.auth_fail_per_second);
  b.last_ms = now;
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

Admission MqAccessControl::refuse(const ConnectInfo& info, Reason r, std::string_view instance_id,
                                  std::string_view account_id, std::string_view principal, std::string why,
                                  const std::string& channel) {
  const int64_t now = now_ms();
  note_failure(info.peer_address, now);
  trace(instance_id, DeviceTrace{0, std::string(info.client_id), "auth_failed", why, channel,
                                 std::string(info.peer_address)});
  AuditEvent e;
  e.time_ms = now;
  e.account_id = account_id;
  e.instance_id = instance_id;
  e.event = "mqtt.connect.denied";
  e.principal = principal;
  e.client_id = info.client_id;
  e.source_ip = info.peer_address;
  e.reason = why;
  audit(std::move(e));
  Admission a;
  a.reason = r;
  return a;
}

Admission MqAccessControl::admit(const ConnectInfo& info) {
  const int64_t now = now_ms();
  if (rate_limited(info.peer_address, now)) {
    Admission a;
    a.reason = Reason::NotAuthorized;
    log::debug("mq: connect from {} refused: too many failed attempts", info.peer_address);
    return a;
  }
  // Ties this connection's traces together (made only for connections that may be traced).
  auto channel = [this] { return "ch-" + std::to_string(channel_seq_.fetch_add(1, std::memory_order_relaxed)); };
  AuthMode* mode = nullptr;
  for (auto& m : modes_)
    if (m->claims(info)) {
      mode = m.get();
      break;
    }
  if (!mode)
    return refuse(info, Reason::BadUserNameOrPassword, {}, {}, {}, "no username: anonymous clients are not accepted",
                  channel());
  if (info.auth_method && !mode->accepts_auth_method(*info.auth_method)) {
    Admission a;
    a.reason = Reason::BadAuthenticationMethod;
    a.reason_string = "enhanced authentication is not supported";
    return a;
  }

  std::shared_ptr<const MqState> state;
  if (mq_) {
    (void)mq_->generation();  // polls for other processes' changes
    state = mq_->state();
  }
  const Attempt attempt{info, info.username.value_or(std::string_view{}), info.password.value_or(std::string_view{}),
                        info.client_id, state.get(), now};
  const Named who = mode->named(attempt);
  AuthOutcome out = mode->authenticate(attempt);
  if (out.reason != Reason::Success) {
    // Recorded where the instance's owner sees it (its traces and audit log),
    // and only when the instance exists: never in an account merely named.
    const InstanceState* inst = state ? state->instance(who.instance_id) : nullptr;
    return refuse(info, out.reason, inst ? who.instance_id : std::string(), inst ? inst->inst.account_id : std::string(),
                  who.key_id, std::string(mode->name()) + ": " + out.why, channel());
  }
  if (!out.credential) {  // no checks at all: the anonymous development mode
    Admission a;
    a.ns = broker_.get_or_create(who.instance_id);
    return a;
  }
  return admit_to_instance(info, *mode, who, std::move(out.credential), *state, channel());
}

// Authenticated, for an existing instance of the identity's account.
Admission MqAccessControl::admit_to_instance(const ConnectInfo& info, const AuthMode& mode, const Named& who,
                                             std::unique_ptr<Credential> cred, const MqState& state,
                                             const std::string& channel) {
  const InstanceState* inst = state.instance(who.instance_id);
  const std::string& account = inst->inst.account_id;
  const auto& settings = inst->inst.settings;
  // Client id: <GroupId>@@@<DeviceId>, the group existing (strict by default).
  const std::string_view cid = info.client_id;
  const std::string_view group = group_of_client(cid);
  if (cid.size() > settings.max_client_id_length)
    return refuse(info, Reason::ClientIdentifierNotValid, who.instance_id, account, who.key_id,
                  "client id longer than " + std::to_string(settings.max_client_id_length) + " characters", channel);
  if (settings.strict_client_id) {
    if (group.empty() || !valid_group_id(group) || cid.size() <= group.size() + 3)
      return refuse(info, Reason::ClientIdentifierNotValid, who.instance_id, account, who.key_id,
                    "client id must be <GroupId>@@@<DeviceId>", channel);
    if (!inst->groups.count(group))
      return refuse(info, Reason::ClientIdentifierNotValid, who.instance_id, account, who.key_id,
                    "group id \"" + std::string(group) + "\" does not exist in the instance", channel);
  }
  ClientFacts f{who.instance_id, account, std::string(cid), std::string(group), who.key_id,
                std::string(info.peer_address), channel, info.secure};
  std::string why;
  if (!cred->may_connect(f, *inst, now_ms(), &why))
    return refuse(info, Reason::NotAuthorized, who.instance_id, account, who.key_id, why, channel);
  // A mutual-TLS instance: a device certificate from one of its CAs as well
  // (issue 18). Checked once the identity is proven, so that a client without
  // valid credentials learns nothing about the instance's CAs.
  if (settings.mutual_tls) {
    CertAdmission cert = check_device_certificate(info, *inst, now_ms());
    if (!cert.ok) {
      Admission a = refuse(info, Reason::NotAuthorized, who.instance_id, account, who.key_id, cert.why, channel);
      a.reason_string = cert.client_reason;
      return a;
    }
    if (!mq_->device_connected(*inst, cert.ca_sn, cert.device, cid)) {
      Admission a;
      a.reason = Reason::ServerUnavailable;
      return a;
    }
    f.cert_ca_sn = cert.ca_sn;
    f.cert_sn = cert.device.sn;
  }

  auto ns = broker_.find(who.instance_id);
  if (!ns) {
    log::warn("mq: instance {} has no namespace yet", who.instance_id);
    Admission a;
    a.reason = Reason::ServerUnavailable;
    return a;
  }
  {
    std::lock_guard lk(conn_mu_);
    auto& n = connections_[who.instance_id];
    // Other nodes of a cluster count too (their last report, a second old at most).
    if (settings.max_connections && n + ns->remote_connections() >= settings.max_connections) {
      Admission a;
      a.reason = Reason::QuotaExceeded;
      trace(who.instance_id, DeviceTrace{0, std::string(cid), "auth_failed", "instance connection limit reached",
                                         channel, std::string(info.peer_address)});
      return a;
    }
    ++n;
  }
  if (auto s = ns->find_session(cid); s && s->online())
    trace(who.instance_id, DeviceTrace{0, std::string(cid), "client_id_conflict",
                                       "a second connection took the session over", channel,
                                       std::string(info.peer_address)});
  trace(who.instance_id, DeviceTrace{0, std::string(cid), "connect", std::string(mode.name()) + " " + who.key_id,
                                     channel, std::string(info.peer_address)});
  Admission a;
  a.ns = std::move(ns);
  a.access = std::make_unique<MqClientAccess>(*this, std::move(f), std::move(cred));
  return a;
}

}  // namespace sluice::mq
