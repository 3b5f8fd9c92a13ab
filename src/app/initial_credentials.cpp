#include "app/initial_credentials.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/log.hpp"
#include "iam/iam_service.hpp"

namespace sluice::app {

namespace json = boost::json;

namespace {

std::string text(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Replaces the file in one step (a reader sees the old or the new one), mode 0600.
bool replace_file(const std::string& path, const std::string& body) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

InitialCredentials::InitialCredentials(std::string data_dir, iam::IamService& iam)
    : path_(path_in(data_dir)), iam_(iam) {}

std::string InitialCredentials::path_in(const std::string& data_dir) {
  return data_dir + "/initial-credentials.json";
}

void InitialCredentials::scrub() {
  if (done_) return;
  std::ifstream in(path_);
  if (!in) {
    done_ = true;  // written only at first start: no file now, none later
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json::error_code ec;
  json::value doc = json::parse(ss.str(), ec);
  if (ec || !doc.is_object()) {
    log::warn("{}: not the JSON Sluice wrote; left as it is", path_);
    done_ = true;
    return;
  }
  json::object& o = doc.as_object();
  const std::string account = text(o, "accountId");
  bool changed = false;

  const std::string password = text(o, "password");
  // A password that still signs in after the flag was cleared (set again to the same
  // value through the API) is checked again only every 10 minutes: a hash check is slow.
  const auto now = std::chrono::steady_clock::now();
  if (password_still_ok_ && now - password_checked_ > std::chrono::minutes(10)) password_still_ok_ = false;
  if (!password.empty() && !password_still_ok_) {
    // The flag is a cheap query; the password hash is checked only once it is cleared.
    if (auto required = iam_.root_password_change_required(account); required && !*required) {
      auto login = iam_.verify_root_login(text(o, "login"), password);
      if (login) {
        password_still_ok_ = true;
        password_checked_ = now;
      } else if (login.error().code == "InvalidLogin") {  // not a storage error: the password is no longer it
        o.erase("password");
        o["passwordChanged"] = true;
        changed = true;
        log::info("{}: the root password has been changed; its first value is removed from the file", path_);
      }
    }
  }

  const std::string key_id = text(o, "accessKeyId");
  if (!text(o, "accessKeySecret").empty()) {
    if (auto keys = iam_.list_access_keys(account, std::nullopt)) {
      bool live = false;
      for (const auto& k : *keys) live = live || k.id == key_id;
      if (!live) {
        o.erase("accessKeySecret");
        o["accessKeyDeleted"] = true;
        changed = true;
        log::info("{}: access key {} has been deleted; its secret is removed from the file", path_, key_id);
      }
    }
  }

  if (changed && !replace_file(path_, json::serialize(doc) + "\n"))
    log::warn("{}: cannot rewrite it without the stale secrets", path_);
  if (!o.contains("password") && !o.contains("accessKeySecret")) done_ = true;
}

}  // namespace sluice::app
