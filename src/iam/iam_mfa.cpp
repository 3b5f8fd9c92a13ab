// Virtual MFA devices (RAM CreateVirtualMFADevice ... DeleteVirtualMFADevice)
// and the TOTP check of console sign-in. The seed is sealed under the master
// key (aad: the serial number), shown once at creation; last_step holds the
// newest TOTP step accepted, so a code is accepted once (iam/totp.hpp).
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "iam/totp.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
constexpr std::string_view kDeviceCols =
    "SELECT d.serial_number, d.account_id, d.name, d.user_name, COALESCE(u.user_id, ''), "
    "COALESCE(u.display_name, ''), d.activated_at, d.created_at FROM mfa_devices d LEFT JOIN users u "
    "ON u.account_id = d.account_id AND u.name = d.user_name ";
MfaDevice read_device(store::Stmt& q) {
  MfaDevice d;
  d.serial_number = q.text(0);
  d.account_id = q.text(1);
  d.name = q.text(2);
  if (!q.is_null(3)) d.user_name = q.text(3);
  d.user_id = q.text(4);
  d.user_display_name = q.text(5);
  d.activated_at = q.int64(6);
  d.created_at = q.int64(7);
  return d;
}
Error no_device(std::string_view serial) {
  return err::not_exist("EntityNotExist.VirtualMFADevice",
                        "The virtual MFA device \"" + std::string(serial) + "\" does not exist in this account.");
}
Error no_user_device(std::string_view user) {
  return err::not_exist("EntityNotExist.User.MFADevice",
                        "The user \"" + std::string(user) + "\" has no MFA device bound.");
}
Error bad_code() {
  return Error{"InvalidMFACode", 401,
               "The MFA code is wrong, expired or already used; enter the code your authenticator shows now."};
}
bool user_exists(store::Db& db, std::string_view acct, std::string_view name) {
  return db.query("SELECT 1 FROM users WHERE account_id = ? AND name = ?", acct, name).step();
}
}  // namespace

Result<NewMfaDevice> IamService::create_virtual_mfa_device(std::string_view account_id, std::string_view name) {
  if (auto e = check_name("VirtualMFADeviceName", name, 1, 64, ".-_")) return *e;
  const std::string seed = store::random_bytes(20);  // 160 bits, RFC 4226's recommendation
  return write_tx(account_id, [&](store::Db& db) -> Result<NewMfaDevice> {
    if (auto s = account_exists(account_id); !s) return s.error();
    if (db.query("SELECT 1 FROM mfa_devices WHERE account_id = ? AND name = ?", account_id, name).step())
      return err::already_exists("EntityAlreadyExists.VirtualMFADevice",
                                 "A virtual MFA device named \"" + std::string(name) + "\" already exists.");
    auto c = db.query("SELECT COUNT(*) FROM mfa_devices WHERE account_id = ?", account_id);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.users_per_account)
      return err::limit("LimitExceeded.VirtualMFADevice", "This account has as many MFA devices as it may have users.");
    NewMfaDevice out;
    auto& d = out.device;
    d.account_id = account_id;
    d.name = name;
    d.serial_number = "acs:ram::" + std::string(account_id) + ":mfa/" + std::string(name);
    d.created_at = now();
    db.run("INSERT INTO mfa_devices(serial_number, account_id, name, seed_enc, user_name, activated_at, last_step, "
           "created_at) VALUES (?, ?, ?, ?, NULL, 0, 0, ?)",
           d.serial_number, account_id, name, store::Blob{store_->box().seal(seed, d.serial_number)}, d.created_at);
    out.base32_seed = totp::base32_encode(seed);
    out.otpauth_uri = totp::otpauth_uri("Sluice", std::string(name) + "@" + std::string(account_id), out.base32_seed);
    return out;
  });
}

Status IamService::bind_mfa_device(std::string_view account_id, std::string_view user, std::string_view serial,
                                   std::string_view code1, std::string_view code2) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!user_exists(db, account_id, user))
      return err::not_exist("EntityNotExist.User", "The user \"" + std::string(user) + "\" does not exist.");
    auto q = db.query("SELECT seed_enc, user_name FROM mfa_devices WHERE account_id = ? AND serial_number = ?",
                      account_id, serial);
    if (!q.step()) return no_device(serial);
    if (!q.is_null(1))
      return err::conflict("EntityAlreadyExists.VirtualMFADevice.User",
                           "The device is already bound to the user \"" + q.text(1) + "\"; unbind it first.");
    if (db.query("SELECT 1 FROM mfa_devices WHERE account_id = ? AND user_name = ?", account_id, user).step())
      return err::already_exists("EntityAlreadyExists.User.MFADevice",
                                 "The user \"" + std::string(user) + "\" already has an MFA device; unbind it first.");
    auto seed = store_->box().open(q.blob(0), serial);
    if (!seed) return err::internal("the MFA device's seed cannot be opened with this master key");
    // Two consecutive codes: code1 of step s, code2 of step s+1, s+1 within one step of now.
    const int64_t step = now() / totp::kStepSeconds;
    std::optional<int64_t> found;
    for (int64_t s = step - 2; s <= step; ++s) {
      const bool a = common::constant_time_equal(totp::hotp(*seed, static_cast<uint64_t>(s)), code1);
      const bool b = common::constant_time_equal(totp::hotp(*seed, static_cast<uint64_t>(s + 1)), code2);
      if (a && b && !found) found = s + 1;
    }
    if (!found)
      return err::invalid("InvalidAuthenticationCode",
                          "AuthenticationCode1 and AuthenticationCode2 must be two consecutive codes the device "
                          "shows now (enter one, wait for the next, enter it).");
    db.run("UPDATE mfa_devices SET user_name = ?, activated_at = ?, last_step = ? WHERE serial_number = ?", user,
           now(), *found, serial);
    bump_user_login_generation(db, account_id, user);  // sessions signed in without the device end
    return {};
  });
}

Result<MfaDevice> IamService::unbind_mfa_device(std::string_view account_id, std::string_view user) {
  return write_tx(account_id, [&](store::Db& db) -> Result<MfaDevice> {
    if (!user_exists(db, account_id, user))
      return err::not_exist("EntityNotExist.User", "The user \"" + std::string(user) + "\" does not exist.");
    auto q = db.query(std::string(kDeviceCols) + "WHERE d.account_id = ? AND d.user_name = ?", account_id, user);
    if (!q.step()) return no_user_device(user);
    MfaDevice d = read_device(q);
    db.run("UPDATE mfa_devices SET user_name = NULL, activated_at = 0, last_step = 0 WHERE serial_number = ?",
           d.serial_number);
    return d;
  });
}

Result<MfaDevice> IamService::user_mfa_device(std::string_view account_id, std::string_view user) {
  return guarded([&]() -> Result<MfaDevice> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (!user_exists(db, account_id, user))
      return err::not_exist("EntityNotExist.User", "The user \"" + std::string(user) + "\" does not exist.");
    auto q = db.query(std::string(kDeviceCols) + "WHERE d.account_id = ? AND d.user_name = ?", account_id, user);
    if (!q.step()) return no_user_device(user);
    return read_device(q);
  });
}

Result<std::vector<MfaDevice>> IamService::list_virtual_mfa_devices(std::string_view account_id) {
  return guarded([&]() -> Result<std::vector<MfaDevice>> {
    std::lock_guard lk(store_->mutex());
    if (auto s = account_exists(account_id); !s) return s.error();
    auto q = store_->db().query(std::string(kDeviceCols) + "WHERE d.account_id = ? ORDER BY d.name", account_id);
    std::vector<MfaDevice> out;
    while (q.step()) out.push_back(read_device(q));
    return out;
  });
}

Status IamService::delete_virtual_mfa_device(std::string_view account_id, std::string_view serial) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    auto q = db.query("SELECT user_name FROM mfa_devices WHERE account_id = ? AND serial_number = ?", account_id,
                      serial);
    if (!q.step()) return no_device(serial);
    if (!q.is_null(0))
      return err::conflict("DeleteConflict.VirtualMFADevice.User",
                           "The device is bound to the user \"" + q.text(0) + "\"; unbind it first.");
    db.run("DELETE FROM mfa_devices WHERE serial_number = ?", serial);
    return {};
  });
}

Status IamService::verify_mfa_code(std::string_view account_id, std::string_view user, std::string_view code) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    auto q = db.query("SELECT serial_number, seed_enc, last_step FROM mfa_devices WHERE account_id = ? AND "
                      "user_name = ?",
                      account_id, user);
    if (!q.step()) return no_user_device(user);
    const std::string serial = q.text(0);
    auto seed = store_->box().open(q.blob(1), serial);
    if (!seed) return err::internal("the MFA device's seed cannot be opened with this master key");
    auto step = totp::verify(*seed, code, now(), q.int64(2));
    if (!step) return bad_code();
    // Conditional on the step still being newer: of two racing uses of one code, one wins.
    if (db.run("UPDATE mfa_devices SET last_step = ? WHERE serial_number = ? AND last_step < ?", *step, serial,
               *step) == 0)
      return bad_code();
    return {};
  });
}

}  // namespace sluice::iam
