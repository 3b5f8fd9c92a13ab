// OnsMqtt CA and device certificates (issue 18): the cloud's 13 operations,
// with its parameter names (MqttInstanceId, Sn, CaSn, DeviceSn, PageNo,
// PageSize), its answers (Data.CaCertificateVOS / DeviceCertificateVOS, times
// as strings of Unix ms, Status "1" active / "0" inactive) and its RAM actions
// (mq:RegisterCa, mq:UnregisterCaCertificate, mq:UnregisterDeviceCertificate
// for the "Inactivate" operations, mq:<Operation> for the others), each with
// mq:MqttInstanceAccess on the instance. Every call is audited by the RPC layer.
#include "api/onsmqtt_internal.hpp"
#include "mq/mq_service.hpp"

namespace sluice::api::onsmqtt {

namespace {

struct CertOp {
  mq::MqService& m;
  std::string id;
};
CertOp cert_op(Call& c, const char* action) {
  auto& m = mqs(c);
  auto id = c.req("MqttInstanceId");
  authz(c, action, id);
  return {m, std::move(id)};
}
int page_no(Call& c) { return static_cast<int>(c.opt_int("PageNo", 1, 1, 1'000'000)); }
int page_size(Call& c) { return static_cast<int>(c.opt_int("PageSize", 10, 1, 100)); }
const char* status_of(bool active) { return active ? "1" : "0"; }

void write_ca(JsonWriter& w, const mq::CaCertificate& ca) {
  w.field("RegistrationCode", ca.registration_code);
  w.field("CaName", ca.name);
  w.field("Sn", ca.sn);
  w.field("CaContent", ca.content);
  w.field("VerificationContent", ca.verification_content);
  w.field("ValidBegin", std::to_string(ca.valid_begin_ms));
  w.field("ValidEnd", std::to_string(ca.valid_end_ms));
  w.field("Status", status_of(ca.active));
}
void write_device(JsonWriter& w, const mq::DeviceCertificate& d) {
  w.field("ValidBegin", std::to_string(d.valid_begin_ms));
  w.field("ValidEnd", std::to_string(d.valid_end_ms));
  w.field("DeviceSn", d.device_sn);
  w.field("DeviceContent", d.content);
  w.field("Status", status_of(d.active));
  w.field("CaSn", d.ca_sn);
  w.field("DeviceName", d.name);
  // Sluice's additions: when the device last connected, and as which client.
  w.field("LastConnectionTime", std::to_string(d.last_connected_ms));
  w.field("LastClientId", d.last_client_id);
}
template <class T, class Write>
void write_page(Call& c, const mq::CertPage<T>& p, const char* list, Write&& one) {
  auto& w = c.out();
  w.key("Data").begin_object();
  w.field("Total", static_cast<int64_t>(p.total));
  w.field("PageNo", static_cast<int64_t>(p.page_no));
  w.field("PageSize", static_cast<int64_t>(p.page_size));
  w.key(list).begin_array();
  for (const auto& x : p.items) {
    w.begin_object();
    one(w, x);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void GetRegisterCode(Call& c) {
  auto [m, id] = cert_op(c, "GetRegisterCode");
  c.out().field("RegisterCode", unwrap(m.GetRegisterCode(c.account(), id)));
}
void RegisterCaCertificate(Call& c) {
  auto [m, id] = cert_op(c, "RegisterCa");
  auto ca = unwrap(m.RegisterCaCertificate(c.account(), id, c.req("CaName"), c.req("CaContent"),
                                           c.req("VerificationContent")));
  c.out().field("Sn", ca.sn);
}
void ListCaCertificate(Call& c) {
  auto [m, id] = cert_op(c, "ListCaCertificate");
  auto p = unwrap(m.ListCaCertificate(c.account(), id, page_no(c), page_size(c)));
  write_page(c, p, "CaCertificateVOS", write_ca);
}
void GetCaCertificate(Call& c) {
  auto [m, id] = cert_op(c, "GetCaCertificate");
  auto ca = unwrap(m.GetCaCertificate(c.account(), id, c.req("Sn")));
  auto& w = c.out();
  w.key("Data").begin_object();
  write_ca(w, ca);
  w.end_object();
}
void ca_status(Call& c, const char* action, bool active) {
  auto [m, id] = cert_op(c, action);
  auto sn = c.req("Sn");
  unwrap(m.SetCaCertificateActive(c.account(), id, sn, active));
  c.out().field("Sn", sn);
}
void ActiveCaCertificate(Call& c) { ca_status(c, "ActiveCaCertificate", true); }
void InactivateCaCertificate(Call& c) { ca_status(c, "UnregisterCaCertificate", false); }
void DeleteCaCertificate(Call& c) {
  auto [m, id] = cert_op(c, "DeleteCaCertificate");
  auto sn = c.req("Sn");
  unwrap(m.DeleteCaCertificate(c.account(), id, sn));
  c.out().field("Sn", sn);
}

void ListDeviceCertificate(Call& c) {
  auto [m, id] = cert_op(c, "ListDeviceCertificate");
  auto p = unwrap(m.ListDeviceCertificate(c.account(), id, "", page_no(c), page_size(c)));
  write_page(c, p, "DeviceCertificateVOS", write_device);
}
void ListDeviceCertificateByCaSn(Call& c) {
  auto [m, id] = cert_op(c, "ListDeviceCertificateByCaSn");
  auto p = unwrap(m.ListDeviceCertificate(c.account(), id, c.req("CaSn"), page_no(c), page_size(c)));
  write_page(c, p, "DeviceCertificateVOS", write_device);
}
void GetDeviceCertificate(Call& c) {
  auto [m, id] = cert_op(c, "GetDeviceCertificate");
  auto d = unwrap(m.GetDeviceCertificate(c.account(), id, c.req("CaSn"), c.req("DeviceSn")));
  auto& w = c.out();
  w.key("Data").begin_object();
  write_device(w, d);
  w.end_object();
}
void device_status(Call& c, const char* action, bool active) {
  auto [m, id] = cert_op(c, action);
  auto ca = c.req("CaSn"), sn = c.req("DeviceSn");
  unwrap(m.SetDeviceCertificateActive(c.account(), id, ca, sn, active));
  c.out().field("DeviceSn", sn);
}
void ActiveDeviceCertificate(Call& c) { device_status(c, "ActiveDeviceCertificate", true); }
void InactivateDeviceCertificate(Call& c) { device_status(c, "UnregisterDeviceCertificate", false); }
void DeleteDeviceCertificate(Call& c) {
  auto [m, id] = cert_op(c, "DeleteDeviceCertificate");
  auto ca = c.req("CaSn"), sn = c.req("DeviceSn");
  unwrap(m.DeleteDeviceCertificate(c.account(), id, ca, sn));
  c.out().field("DeviceSn", sn);
}

}  // namespace

void add_certificate_operations(Registry& r) {
  add(r, {
      {"GetRegisterCode", GetRegisterCode},
      {"RegisterCaCertificate", RegisterCaCertificate},
      {"ListCaCertificate", ListCaCertificate},
      {"GetCaCertificate", GetCaCertificate},
      {"ActiveCaCertificate", ActiveCaCertificate},
      {"InactivateCaCertificate", InactivateCaCertificate},
      {"DeleteCaCertificate", DeleteCaCertificate},
      {"ListDeviceCertificate", ListDeviceCertificate},
      {"ListDeviceCertificateByCaSn", ListDeviceCertificateByCaSn},
      {"GetDeviceCertificate", GetDeviceCertificate},
      {"ActiveDeviceCertificate", ActiveDeviceCertificate},
      {"InactivateDeviceCertificate", InactivateDeviceCertificate},
      {"DeleteDeviceCertificate", DeleteDeviceCertificate},
  });
}

}  // namespace sluice::api::onsmqtt
