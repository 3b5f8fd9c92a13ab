#pragma once
// Mutual TLS on an instance (issue 18): the check a CONNECT to a mutual
// instance goes through after its usual authentication, and the re-check of a
// connected device. The TLS listener asks every client for a certificate but
// decides nothing (one certificate serves every instance); the chain the client
// presented reaches here in ConnectInfo and is checked against the CAs of the
// instance the CONNECT names.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "broker/access.hpp"
#include "mq/audit.hpp"
#include "mq/x509.hpp"

namespace sluice::mq {

struct InstanceState;
struct MqState;

struct CertAdmission {
  bool ok = false;
  std::string why;            // for the audit log and the owner's traces
  std::string client_reason;  // for an MQTT 5 client (the CONNACK's reason string)
  std::string ca_sn;          // the registered CA the chain ends at
  x509::CertInfo device;
};

// The chain in `info` against the instance's CAs: a certificate presented over
// TLS, chaining to a registered CA that is active, valid now, itself not a CA,
// and (if registered already) an active device certificate.
CertAdmission check_device_certificate(const broker::ConnectInfo& info, const InstanceState& inst, int64_t now_ms);

// For a connected device: its CA and device certificate are still registered
// and active. False with `why` otherwise.
bool device_certificate_still_valid(const InstanceState& inst, const std::string& ca_sn, const std::string& sn,
                                    std::string* why);

// The CAs a TLS handshake verifies a client certificate against when its SNI
// names an instance (issue 18, "or chosen by SNI"): the server name's first
// label is an instance id, as in the cloud's endpoints
// (<instance id>.mqtt.aliyuncs.com; Custom mode reads it the same way), and
// that instance is mutual with at least one CA registered. Null otherwise (the
// handshake then checks nothing and the CONNECT decides). The pointer keeps
// the instance's trust store alive.
std::shared_ptr<x509_store_st> handshake_trust(const MqState& state, std::string_view server_name);

// The audit record of a TLS handshake refused for an instance that
// handshake_trust verified (no certificate, another CA, expired...): the
// client never reaches CONNECT, so no other denial names it. Null when the
// server name is not such an instance (a handshake failure that is nobody's
// denial: a port scan, a client speaking plain MQTT to the TLS port).
std::optional<AuditEvent> handshake_refusal(const MqState& state, std::string_view server_name,
                                            std::string_view peer, std::string_view why, int64_t now_ms);

}  // namespace sluice::mq
