#pragma once
// Mutual TLS on an instance (issue 18): the check a CONNECT to a mutual
// instance goes through after its usual authentication, and the re-check of a
// connected device. The TLS listener asks every client for a certificate but
// decides nothing (one certificate serves every instance); the chain the client
// presented reaches here in ConnectInfo and is checked against the CAs of the
// instance the CONNECT names.
#include <cstdint>
#include <string>

#include "broker/access.hpp"
#include "mq/x509.hpp"

namespace sluice::mq {

struct InstanceState;

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

}  // namespace sluice::mq
