// RAM virtual MFA devices (issue 21): create one (its Base32 seed shown once),
// bind it to a user with two consecutive codes, unbind, list, delete. A user
// with a bound device is asked for a code after its password at console sign-in.
#include "api/ops_util.hpp"
#include "api/qr_png.hpp"
#include "api/ram_internal.hpp"
#include "common/crypto.hpp"

namespace sluice::api::ram {

namespace {

std::string mfa_arn(Call& c, std::string_view name) { return c.arn("ram", "mfa/" + std::string(name)); }

// acs:ram::<this account>:mfa/<name> -> <name>; another account's serial names no device here.
std::string device_name(Call& c, const std::string& serial) {
  const std::string prefix = "acs:ram::" + c.account() + ":mfa/";
  if (!serial.starts_with(prefix) || serial.size() == prefix.size())
    fail("EntityNotExist.VirtualMFADevice", 404,
         "The virtual MFA device \"" + serial + "\" does not exist in this account (serial numbers are " + prefix +
             "<name>).");
  return serial.substr(prefix.size());
}

// The security preference AllowUserToManageMFADevices (on by default) lets a RAM
// user bind, unbind and read its own device without a policy, as the cloud.
void authorize_user_device(Call& c, const char* action, const std::string& user) {
  const auto& who = c.principal();
  if (who.kind == iam::Principal::Kind::User && who.name == user &&
      unwrap(c.iam().security_preference(c.account())).allow_user_to_manage_mfa_devices) {
    c.authorize_unless_denied(action, user_arn(c, user));
    return;
  }
  c.authorize(action, user_arn(c, user));
}

// With the same preference a RAM user creates and deletes the device named after
// itself (the console's "Security settings" names a user's device so), as the
// cloud's console lets a user enrol alone; any other name needs a policy.
void authorize_own_device(Call& c, const char* action, const std::string& name) {
  const auto& who = c.principal();
  if (who.kind == iam::Principal::Kind::User && who.name == name &&
      unwrap(c.iam().security_preference(c.account())).allow_user_to_manage_mfa_devices) {
    c.authorize_unless_denied(action, mfa_arn(c, name));
    return;
  }
  c.authorize(action, mfa_arn(c, name));
}

std::string user_param(Call& c) {
  auto u = c.opt("UserName");
  if ((!u || u->empty()) && c.principal().kind == iam::Principal::Kind::User) return c.principal().name;
  if (!u || u->empty()) fail("MissingUserName", 400, "UserName is mandatory for this action.");
  return *u;
}

void CreateVirtualMFADevice(Call& c) {
  auto name = c.req("VirtualMFADeviceName");
  authorize_own_device(c, "ram:CreateVirtualMFADevice", name);
  auto d = unwrap(c.iam().create_virtual_mfa_device(c.account(), name));
  auto& w = c.out();
  w.key("VirtualMFADevice").begin_object();
  w.field("SerialNumber", d.device.serial_number);
  w.field("Base32StringSeed", d.base32_seed);
  // As the cloud: the otpauth:// URI as a QR code, a Base64 PNG (src/api/qr_png.cpp);
  // the URI itself too (OtpauthUri, an addition), and the seed to type in.
  w.field("QRCodePNG", common::base64_encode(qr_png(d.otpauth_uri)));
  w.field("OtpauthUri", d.otpauth_uri);
  w.end_object();
}

void BindMFADevice(Call& c) {
  auto user = c.req("UserName");
  auto serial = c.req("SerialNumber");
  auto code1 = c.req("AuthenticationCode1");
  auto code2 = c.req("AuthenticationCode2");
  device_name(c, serial);
  authorize_user_device(c, "ram:BindMFADevice", user);
  unwrap(c.iam().bind_mfa_device(c.account(), user, serial, code1, code2));
}

void UnbindMFADevice(Call& c) {
  auto user = c.req("UserName");
  authorize_user_device(c, "ram:UnbindMFADevice", user);
  auto d = unwrap(c.iam().unbind_mfa_device(c.account(), user));
  c.out().key("MFADevice").begin_object();
  c.out().field("SerialNumber", d.serial_number);
  c.out().end_object();
}

void GetUserMFAInfo(Call& c) {
  auto user = user_param(c);
  authorize_user_device(c, "ram:GetUserMFAInfo", user);
  auto d = unwrap(c.iam().user_mfa_device(c.account(), user));
  c.out().key("MFADevice").begin_object();
  c.out().field("SerialNumber", d.serial_number);
  c.out().field("Type", "VMFA");
  c.out().end_object();
}

void ListVirtualMFADevices(Call& c) {
  c.authorize("ram:ListVirtualMFADevices", mfa_arn(c, "*"));
  auto ds = unwrap(c.iam().list_virtual_mfa_devices(c.account()));
  auto& w = c.out();
  w.begin_wrapped("VirtualMFADevices", "VirtualMFADevice");
  for (const auto& d : ds) {
    w.begin_object();
    w.field("SerialNumber", d.serial_number);
    if (d.user_name) {
      w.field("ActivateDate", iso_time(d.activated_at));
      w.key("User").begin_object();
      w.field("UserName", *d.user_name);
      w.field("UserId", d.user_id);
      w.field("DisplayName", d.user_display_name);
      w.end_object();
    }
    w.end_object();
  }
  w.end_wrapped();
}

void DeleteVirtualMFADevice(Call& c) {
  auto serial = c.req("SerialNumber");
  authorize_own_device(c, "ram:DeleteVirtualMFADevice", device_name(c, serial));
  unwrap(c.iam().delete_virtual_mfa_device(c.account(), serial));
}

}  // namespace

void add_mfa_operations(Registry& r) {
  add(r, {
      {"CreateVirtualMFADevice", CreateVirtualMFADevice},
      {"BindMFADevice", BindMFADevice},
      {"UnbindMFADevice", UnbindMFADevice},
      {"GetUserMFAInfo", GetUserMFAInfo},
      {"ListVirtualMFADevices", ListVirtualMFADevices},
      {"DeleteVirtualMFADevice", DeleteVirtualMFADevice},
  });
}

}  // namespace sluice::api::ram
