#include "mq/cert_auth.hpp"

#include <cctype>

#include "mq/mq_service.hpp"

namespace sluice::mq {

namespace {
CertAdmission refused(std::string why, std::string client_reason) {
  CertAdmission a;
  a.why = "mutual TLS: " + std::move(why);
  a.client_reason = std::move(client_reason);
  return a;
}
}  // namespace

CertAdmission check_device_certificate(const broker::ConnectInfo& info, const InstanceState& inst, int64_t now_ms) {
  if (!info.secure)
    return refused("connected without TLS", "the instance requires TLS with a device certificate");
  if (info.peer_certificates.empty())
    return refused("no client certificate presented", "the instance requires a device certificate");
  const auto& certs = inst.certs;
  if (!certs.trust || certs.trust->empty())
    return refused("no CA certificate is registered on the instance", "device certificate not accepted");
  auto v = certs.trust->verify(info.peer_certificates, now_ms);
  if (v.error != x509::ChainError::None) {
    std::string who = v.device.sn.empty() ? std::string() : " (device certificate " + v.device.sn + ")";
    return refused(v.why + who, std::string("device certificate refused: ") + x509::to_string(v.error));
  }
  if (v.device.is_ca)
    return refused("the certificate presented (" + v.device.sn + ") is a CA certificate, not a device certificate",
                   "device certificate refused: a CA certificate is not a device certificate");
  const CaCertificate* ca = certs.ca(v.anchor_sn);
  if (!ca) return refused("chain ends at an unregistered certificate " + v.anchor_sn, "device certificate refused");
  if (!ca->active)
    return refused("CA certificate " + ca->sn + " is inactive", "device certificate refused: its CA is inactive");
  if (const DeviceCertificate* d = certs.device(ca->sn, v.device.sn); d && !d->active)
    return refused("device certificate " + d->device_sn + " is inactive",
                   "device certificate refused: it is inactive");
  CertAdmission a;
  a.ok = true;
  a.ca_sn = ca->sn;
  a.device = std::move(v.device);
  return a;
}

bool device_certificate_still_valid(const InstanceState& inst, const std::string& ca_sn, const std::string& sn,
                                    std::string* why) {
  const CaCertificate* ca = inst.certs.ca(ca_sn);
  if (!ca) return *why = "CA certificate " + ca_sn + " was deleted", false;
  if (!ca->active) return *why = "CA certificate " + ca_sn + " was inactivated", false;
  const DeviceCertificate* d = inst.certs.device(ca_sn, sn);
  if (!d) return *why = "device certificate " + sn + " was deleted", false;
  if (!d->active) return *why = "device certificate " + sn + " was inactivated", false;
  return true;
}

namespace {
// The mutual-TLS instance with a CA registered that a server name's first
// label names, or null.
const InstanceState* mutual_instance(const MqState& state, std::string_view server_name) {
  const std::string_view label = server_name.substr(0, server_name.find('.'));
  if (label.empty() || label.size() > 64) return nullptr;
  std::string id(label);
  for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // DNS names ignore case
  const InstanceState* inst = state.instance(id);
  if (!inst || !inst->inst.settings.mutual_tls) return nullptr;
  const auto& trust = inst->certs.trust;
  return trust && !trust->empty() ? inst : nullptr;
}
}  // namespace

std::shared_ptr<x509_store_st> handshake_trust(const MqState& state, std::string_view server_name) {
  const InstanceState* inst = mutual_instance(state, server_name);
  if (!inst) return nullptr;
  const auto& trust = inst->certs.trust;
  return std::shared_ptr<x509_store_st>(trust, trust->native());  // shares the trust store's lifetime
}

std::optional<AuditEvent> handshake_refusal(const MqState& state, std::string_view server_name,
                                            std::string_view peer, std::string_view why, int64_t now_ms) {
  const InstanceState* inst = mutual_instance(state, server_name);
  if (!inst) return std::nullopt;
  AuditEvent e;
  e.time_ms = now_ms;
  e.account_id = inst->inst.account_id;
  e.instance_id = inst->inst.id;
  e.event = "mqtt.tls.denied";
  e.source_ip = std::string(peer);
  e.resource = std::string(server_name);
  e.reason = std::string(why);
  return e;
}

}  // namespace sluice::mq
