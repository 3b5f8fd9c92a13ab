// CA and device certificates (issue 18): registration codes, CA registration
// with proof of possession, activation, deletion, the device certificates a
// verified CONNECT registers, and their part of the snapshot (each instance's
// trust store is built here, once per snapshot, not per CONNECT).
//
// Error codes are the cloud's for these operations: FindCaBySnError and
// FindDeviceBySnError for an unknown serial number, ParameterFieldCheckFailed
// for a certificate that does not parse or does not prove what it must.
#include <algorithm>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "mq/internal.hpp"

namespace sluice::mq {

using namespace detail;

namespace {

Error bad_field(std::string msg) { return invalid("ParameterFieldCheckFailed", std::move(msg)); }
Error no_ca(std::string_view sn) {
  return not_exist("FindCaBySnError", "Failed to find the CA by the SN \"" + std::string(sn.substr(0, 130)) +
                                          "\": no CA certificate with that serial number is registered on the "
                                          "instance (ListCaCertificate lists them).");
}
Error no_device(std::string_view ca_sn, std::string_view sn) {
  return not_exist("FindDeviceBySnError", "Failed to find the device certificate by the SN \"" +
                                              std::string(sn.substr(0, 130)) + "\" under the CA \"" +
                                              std::string(ca_sn.substr(0, 130)) + "\".");
}
// Serial numbers: at most 128 bytes (the cloud's limit), hex as this server writes them.
std::optional<Error> check_sn(const char* field, std::string_view sn) {
  if (sn.empty() || sn.size() > 128)
    return bad_field(std::string(field) + " must be a certificate serial number of 1 to 128 characters.");
  return std::nullopt;
}
std::optional<Error> check_page(int page_no, int page_size) {
  if (page_no < 1) return bad_field("PageNo must be 1 or more.");
  if (page_size < 1 || page_size > 100) return bad_field("PageSize must be 1 to 100.");
  return std::nullopt;
}
template <class T>
CertPage<T> page_of(std::vector<T> all, int page_no, int page_size) {
  CertPage<T> p;
  p.total = all.size();
  p.page_no = page_no;
  p.page_size = page_size;
  const size_t begin = std::min(all.size(), static_cast<size_t>(page_no - 1) * static_cast<size_t>(page_size));
  const size_t end = std::min(all.size(), begin + static_cast<size_t>(page_size));
  p.items.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(begin)),
                 std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end)));
  return p;
}
std::string seen_key(std::string_view inst, std::string_view ca, std::string_view dev) {
  std::string k(inst);
  k += '\x1f';
  k += ca;
  k += '\x1f';
  k += dev;
  return k;
}
constexpr int64_t kSeenWriteEveryMs = 60 * 1000;
}  // namespace

void MqService::load_certs_locked(MqState& s) {
  auto& db = store_->db();
  auto inst = [&](const std::string& id) -> InstanceState* {
    auto it = s.instances.find(id);
    return it == s.instances.end() ? nullptr : &it->second;
  };
  {
    auto q = db.query("SELECT instance_id, code FROM mq_cert_register_codes");
    while (q.step())
      if (auto* i = inst(q.text(0))) i->certs.register_code = q.text(1);
  }
  {
    auto q = db.query(
        "SELECT instance_id, sn, name, content, verification, registration_code, active, valid_begin_ms, "
        "valid_end_ms, created_ms FROM mq_ca_certificates");
    while (q.step()) {
      auto* i = inst(q.text(0));
      if (!i) continue;
      CaCertificate c{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.int64(6) != 0,
                      q.int64(7), q.int64(8), q.int64(9)};
      i->certs.cas.emplace(c.sn, std::move(c));
    }
  }
  {
    auto q = db.query(
        "SELECT instance_id, ca_sn, device_sn, name, content, active, valid_begin_ms, valid_end_ms, created_ms, "
        "last_connected_ms, last_client_id FROM mq_device_certificates");
    while (q.step()) {
      auto* i = inst(q.text(0));
      if (!i) continue;
      DeviceCertificate d{q.text(0), q.text(1), q.text(2),  q.text(3),  q.text(4), q.int64(5) != 0,
                          q.int64(6), q.int64(7), q.int64(8), q.int64(9), q.text(10)};
      i->certs.devices.emplace(std::make_pair(d.ca_sn, d.device_sn), std::move(d));
    }
  }
  for (auto& [id, st] : s.instances) {
    if (st.certs.cas.empty()) continue;
    std::vector<std::string> ders;
    for (const auto& [sn, ca] : st.certs.cas) {
      std::string why;
      if (auto info = x509::parse_pem(ca.content, &why)) ders.push_back(std::move(info->der));
      else log::error("mq: CA certificate {} of {} does not parse ({}); skipped", sn, id, why);
    }
    st.certs.trust = std::make_shared<const x509::TrustStore>(ders);
  }
}

Result<std::string> MqService::GetRegisterCode(std::string_view account_id, std::string_view instance_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (auto code = state()->instance(instance_id)->certs.register_code; !code.empty()) return code;
  // 32 random characters: a verification certificate made for one instance
  // proves nothing on another.
  const std::string fresh = store::random_string(32, store::kAlnum);
  return write(account_id, [&](store::Db& db) -> Result<std::string> {
    // Two first calls at once: the first code written stays.
    db.run("INSERT INTO mq_cert_register_codes (instance_id, code, created_ms) VALUES (?, ?, ?) "
           "ON CONFLICT (instance_id) DO NOTHING",
           instance_id, fresh, now_ms());
    auto q = db.query("SELECT code FROM mq_cert_register_codes WHERE instance_id = ?", instance_id);
    if (!q.step()) return iam::err::internal("the registration code was not stored");
    return q.text(0);
  });
}

Result<CaCertificate> MqService::RegisterCaCertificate(std::string_view account_id, std::string_view instance_id,
                                                       std::string_view name, std::string_view ca_pem,
                                                       std::string_view verification_pem) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (name.empty() || name.size() > 64) return bad_field("CaName must be 1 to 64 characters.");
  std::string why;
  auto ca = x509::parse_pem(ca_pem, &why);
  if (!ca) return bad_field("CaContent: " + why + ".");
  if (!ca->is_ca) return bad_field("CaContent is not a CA certificate (basicConstraints CA:TRUE is required).");
  const int64_t now = now_ms();
  if (ca->not_after_ms <= now) return bad_field("CaContent: the CA certificate has expired.");
  auto ver = x509::parse_pem(verification_pem, &why);
  if (!ver) return bad_field("VerificationContent: " + why + ".");
  const std::string code = state()->instance(instance_id)->certs.register_code;
  if (code.empty())
    return bad_field("The instance has no registration code yet: call GetRegisterCode, make the verification "
                     "certificate with that code as its CN, sign it with the CA's key, then register.");
  // Proof of possession: only the holder of the CA's key can sign a
  // certificate naming this instance's code.
  if (ver->subject_cn.size() != code.size() || !common::constant_time_equal(ver->subject_cn, code))
    return bad_field("VerificationContent: its CN must be the instance's registration code (GetRegisterCode).");
  if (!x509::signed_by(ver->der, ca->der))
    return bad_field("VerificationContent is not signed by the CA's key, so it proves nothing about the CA.");
  if (ver->not_after_ms <= now) return bad_field("VerificationContent: the verification certificate has expired.");
  CaCertificate c{std::string(instance_id), ca->sn,     std::string(name),  ca->pem, ver->pem, code, true,
                  ca->not_before_ms,        ca->not_after_ms, now};
  return write(account_id, [&](store::Db& db) -> Result<CaCertificate> {
    if (db.query("SELECT 1 FROM mq_ca_certificates WHERE instance_id = ? AND sn = ?", instance_id, c.sn).step())
      return already_exists("CaAlreadyExists", "A CA certificate with the serial number \"" + c.sn +
                                                   "\" is already registered on the instance.");
    db.run("INSERT INTO mq_ca_certificates (instance_id, sn, name, content, verification, registration_code, "
           "active, valid_begin_ms, valid_end_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
           c.instance_id, c.sn, c.name, c.content, c.verification_content, c.registration_code, c.valid_begin_ms,
           c.valid_end_ms, c.created_ms);
    return c;
  });
}

Result<CertPage<CaCertificate>> MqService::ListCaCertificate(std::string_view account_id,
                                                             std::string_view instance_id, int page_no,
                                                             int page_size) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (auto e = check_page(page_no, page_size)) return *e;
  auto st = state();
  std::vector<CaCertificate> all;
  for (const auto& [sn, c] : st->instance(instance_id)->certs.cas) all.push_back(c);
  std::sort(all.begin(), all.end(), [](const CaCertificate& a, const CaCertificate& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.sn < b.sn;
  });
  return page_of(std::move(all), page_no, page_size);
}

Result<CaCertificate> MqService::GetCaCertificate(std::string_view account_id, std::string_view instance_id,
                                                  std::string_view sn) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (auto e = check_sn("Sn", sn)) return *e;
  auto st = state();
  const CaCertificate* c = st->instance(instance_id)->certs.ca(sn);
  if (!c) return no_ca(sn);
  return *c;
}

Status MqService::SetCaCertificateActive(std::string_view account_id, std::string_view instance_id,
                                         std::string_view sn, bool active) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  if (auto e = check_sn("Sn", sn)) return *e;
  return change_one(account_id, no_ca(sn), "UPDATE mq_ca_certificates SET active = ? WHERE instance_id = ? AND sn = ?",
                    active ? 1 : 0, instance_id, sn);
}

Status MqService::DeleteCaCertificate(std::string_view account_id, std::string_view instance_id,
                                      std::string_view sn) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  if (auto e = check_sn("Sn", sn)) return *e;
  return write(account_id, [&](store::Db& db) -> Status {
    // Explicitly, not only by the foreign key: SQLite enforces it only with foreign_keys on.
    db.run("DELETE FROM mq_device_certificates WHERE instance_id = ? AND ca_sn = ?", instance_id, sn);
    if (db.run("DELETE FROM mq_ca_certificates WHERE instance_id = ? AND sn = ?", instance_id, sn) == 0)
      return no_ca(sn);
    return {};
  });
}

DeviceCertificate MqService::with_last_seen(DeviceCertificate d) const {
  std::lock_guard lk(seen_mu_);
  auto it = seen_.find(seen_key(d.instance_id, d.ca_sn, d.device_sn));
  if (it != seen_.end() && it->second.ms > d.last_connected_ms) {
    d.last_connected_ms = it->second.ms;
    d.last_client_id = it->second.client_id;
  }
  return d;
}

Result<CertPage<DeviceCertificate>> MqService::ListDeviceCertificate(std::string_view account_id,
                                                                     std::string_view instance_id,
                                                                     std::string_view ca_sn, int page_no,
                                                                     int page_size) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (auto e = check_page(page_no, page_size)) return *e;
  auto st = state();
  const auto& certs = st->instance(instance_id)->certs;
  if (!ca_sn.empty() && !certs.ca(ca_sn)) return no_ca(ca_sn);
  std::vector<DeviceCertificate> all;
  for (const auto& [k, d] : certs.devices)
    if (ca_sn.empty() || d.ca_sn == ca_sn) all.push_back(with_last_seen(d));
  std::sort(all.begin(), all.end(), [](const DeviceCertificate& a, const DeviceCertificate& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.device_sn < b.device_sn;
  });
  return page_of(std::move(all), page_no, page_size);
}

Result<DeviceCertificate> MqService::GetDeviceCertificate(std::string_view account_id, std::string_view instance_id,
                                                          std::string_view ca_sn, std::string_view device_sn) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (auto e = check_sn("CaSn", ca_sn)) return *e;
  if (auto e = check_sn("DeviceSn", device_sn)) return *e;
  auto st = state();
  const DeviceCertificate* d = st->instance(instance_id)->certs.device(std::string(ca_sn), std::string(device_sn));
  if (!d) return no_device(ca_sn, device_sn);
  return with_last_seen(*d);
}

Status MqService::SetDeviceCertificateActive(std::string_view account_id, std::string_view instance_id,
                                             std::string_view ca_sn, std::string_view device_sn, bool active) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  if (auto e = check_sn("CaSn", ca_sn)) return *e;
  if (auto e = check_sn("DeviceSn", device_sn)) return *e;
  return change_one(account_id, no_device(ca_sn, device_sn),
                    "UPDATE mq_device_certificates SET active = ? WHERE instance_id = ? AND ca_sn = ? AND device_sn = ?",
                    active ? 1 : 0, instance_id, ca_sn, device_sn);
}

Status MqService::DeleteDeviceCertificate(std::string_view account_id, std::string_view instance_id,
                                          std::string_view ca_sn, std::string_view device_sn) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  if (auto e = check_sn("CaSn", ca_sn)) return *e;
  if (auto e = check_sn("DeviceSn", device_sn)) return *e;
  return change_one(account_id, no_device(ca_sn, device_sn),
                    "DELETE FROM mq_device_certificates WHERE instance_id = ? AND ca_sn = ? AND device_sn = ?",
                    instance_id, ca_sn, device_sn);
}

bool MqService::device_connected(const InstanceState& inst, const std::string& ca_sn, const x509::CertInfo& dev,
                                 std::string_view client_id) {
  const int64_t now = now_ms();
  const std::string& id = inst.inst.id;
  if (!inst.certs.device(ca_sn, dev.sn)) {
    // First valid connection: registered, active (the cloud's behaviour).
    auto r = write(inst.inst.account_id, [&](store::Db& db) -> Status {
      db.run("INSERT INTO mq_device_certificates (instance_id, ca_sn, device_sn, name, content, active, "
             "valid_begin_ms, valid_end_ms, created_ms, last_connected_ms, last_client_id) "
             "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, ca_sn, device_sn) DO NOTHING",
             id, ca_sn, dev.sn, dev.subject_cn, dev.pem.empty() ? x509::pem_of_der(dev.der) : dev.pem, dev.not_before_ms, dev.not_after_ms, now, now, client_id);
      return {};
    });
    if (!r) {
      log::warn("mq: device certificate {} of {} not registered: {}", dev.sn, id, r.error().message);
      return false;
    }
    std::lock_guard lk(seen_mu_);
    seen_[seen_key(id, ca_sn, dev.sn)] = Seen{now, now, std::string(client_id)};
    return true;
  }
  bool due;
  {
    std::lock_guard lk(seen_mu_);
    if (seen_.size() > 1000000) seen_.clear();  // bounded; the store has every time written
    auto& s = seen_[seen_key(id, ca_sn, dev.sn)];
    s.ms = now;
    s.client_id = client_id;
    due = now - s.written_ms >= kSeenWriteEveryMs;
    if (due) s.written_ms = now;
  }
  // The last connection is informative: written without a snapshot rebuild,
  // at most once a minute per device, and a failure only logged.
  if (due) {
    auto r = transact(inst.inst.account_id, [&](store::Db& db) -> Status {
      db.run("UPDATE mq_device_certificates SET last_connected_ms = ?, last_client_id = ? WHERE instance_id = ? AND "
             "ca_sn = ? AND device_sn = ?",
             now, client_id, id, ca_sn, dev.sn);
      return {};
    });
    if (!r) log::debug("mq: last connection of device certificate {} not written: {}", dev.sn, r.error().message);
  }
  return true;
}

}  // namespace sluice::mq
