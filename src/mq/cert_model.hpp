#pragma once
// Device certificates (issue 18): the CA certificates registered on an
// instance and the device certificates they issued, as the cloud's
// CA / device certificate operations describe them. Public certificates only:
// no private key is ever given to, or kept by, the server.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "mq/x509.hpp"

namespace sluice::mq {

struct CaCertificate {
  std::string instance_id;
  std::string sn;                    // serial number, lowercase hex
  std::string name;                  // CaName
  std::string content;               // CaContent (PEM)
  std::string verification_content;  // VerificationContent (PEM): the proof of possession it was registered with
  std::string registration_code;     // the instance's code the verification certificate's CN carried
  bool active = true;                // Status "1" / "0"
  int64_t valid_begin_ms = 0, valid_end_ms = 0;
  int64_t created_ms = 0;
};

struct DeviceCertificate {
  std::string instance_id;
  std::string ca_sn;       // the registered CA its chain ends at
  std::string device_sn;
  std::string name;        // DeviceName: the certificate's CN
  std::string content;     // DeviceContent (PEM)
  bool active = true;
  int64_t valid_begin_ms = 0, valid_end_ms = 0;
  int64_t created_ms = 0;
  int64_t last_connected_ms = 0;   // Sluice's: the last CONNECT it authenticated
  std::string last_client_id;      // Sluice's: the client id of that CONNECT
};

// One instance's certificates in the snapshot the access layer reads.
struct InstanceCerts {
  std::string register_code;                                            // empty until GetRegisterCode
  std::map<std::string, CaCertificate, std::less<>> cas;                // by sn
  std::map<std::pair<std::string, std::string>, DeviceCertificate> devices;  // by (ca sn, device sn)
  std::shared_ptr<const x509::TrustStore> trust;                        // every registered CA
  const CaCertificate* ca(std::string_view sn) const {
    auto it = cas.find(sn);
    return it == cas.end() ? nullptr : &it->second;
  }
  const DeviceCertificate* device(const std::string& ca_sn, const std::string& device_sn) const {
    auto it = devices.find({ca_sn, device_sn});
    return it == devices.end() ? nullptr : &it->second;
  }
};

// One page of a list operation.
template <class T>
struct CertPage {
  std::vector<T> items;
  size_t total = 0;
  int page_no = 1, page_size = 10;
};

}  // namespace sluice::mq
