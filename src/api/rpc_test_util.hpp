#pragma once
// Test fixture for the RPC endpoint: a real store, IamService, Authorizer,
// audit log and (optionally) MqService; requests signed V1 or V3 in-process.
#include <gtest/gtest.h>

#include <algorithm>

#include "api/audit.hpp"
#include "api/rpc.hpp"
#include "api/signature.hpp"
#include "iam/test_util.hpp"
#include "mq/mq_service.hpp"

namespace sluice::api::testing {

using iam::testing::g_now;

class RpcTest : public iam::testing::IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    acct_ = new_account();
    auto k = iam_->create_access_key(acct_, std::nullopt);
    ASSERT_TRUE(k.ok());
    root_id_ = k->key.id;
    root_secret_ = k->secret;
    audit_ = std::make_unique<AuditLog>(shared_store(), AuditOptions{});
    make_endpoint({});
  }
  void TearDown() override {
    ep_.reset();
    mq_.reset();
    audit_.reset();
    IamFixture::TearDown();
  }
  std::shared_ptr<store::Store> shared_store() {
    // IamService owns the store through a shared_ptr; borrow it without owning.
    return std::shared_ptr<store::Store>(&iam_->store(), [](store::Store*) {});
  }
  void make_endpoint(RpcOptions o) {
    RpcServices s;
    s.mq = mq_.get();
    s.iam = iam_.get();
    s.authz = authz_.get();
    s.audit = audit_.get();
    ep_ = std::make_unique<RpcEndpoint>(s, std::move(o));
  }

  HttpRequest v1(Params p, const std::string& id, const std::string& secret, const std::string& method = "GET",
                 std::optional<int64_t> ts = {}, std::string nonce = {}) {
    static int n = 0;
    p.insert(p.begin(), {{"Format", "JSON"},
                         {"AccessKeyId", id},
                         {"SignatureMethod", "HMAC-SHA1"},
                         {"SignatureVersion", "1.0"},
                         {"SignatureNonce", nonce.empty() ? "n-" + std::to_string(++n) : nonce},
                         {"Timestamp", format_timestamp(ts.value_or(g_now))}});
    std::string sig = v1_sign(secret, v1_string_to_sign(method, p));
    p.emplace_back("Signature", sig);
    HttpRequest r;
    r.method = method;
    r.path = "/";
    r.peer = "10.1.2.3";
    std::string q;
    for (const auto& [k, v] : p) q += (q.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
    if (method == "POST") {
      r.body = q;
      r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    } else {
      r.query = q;
    }
    r.target = "/?" + r.query;
    return r;
  }
  HttpRequest ram(Params p, const std::string& action) {
    p.insert(p.begin(), {{"Action", action}, {"Version", "2015-05-01"}});
    return v1(std::move(p), root_id_, root_secret_);
  }
  // `leave_unsigned`: headers sent but left out of SignedHeaders; `extra`: more headers sent.
  HttpRequest v3(const std::string& action, const std::string& version, Params q, const std::string& id,
                 const std::string& secret, const std::string& token = {},
                 const std::vector<std::string>& leave_unsigned = {}, const Params& extra = {}) {
    static int n = 0;
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.peer = "10.1.2.3";
    std::string hash = hex(sha256(""));
    r.headers = {{"host", "127.0.0.1:8080"},
                 {"x-acs-action", action},
                 {"x-acs-version", version},
                 {"x-acs-date", format_timestamp(g_now)},
                 {"x-acs-signature-nonce", "v3-" + std::to_string(++n)},
                 {"x-acs-content-sha256", hash}};
    if (!token.empty()) r.headers.emplace_back("x-acs-security-token", token);
    for (const auto& h : extra) r.headers.push_back(h);
    std::vector<std::string> names;
    for (const auto& [k, _] : r.headers)
      if (std::find(leave_unsigned.begin(), leave_unsigned.end(), k) == leave_unsigned.end()) names.push_back(k);
    std::sort(names.begin(), names.end());
    std::string sig = v3_sign(secret, v3_string_to_sign(v3_canonical_request("POST", "/", q, r.headers, names, hash)));
    std::string sh;
    for (const auto& h : names) sh += (sh.empty() ? "" : ";") + h;
    r.headers.emplace_back("authorization", "ACS3-HMAC-SHA256 Credential=" + id + ",SignedHeaders=" + sh + ",Signature=" + sig);
    for (const auto& [k, v] : q) r.query += (r.query.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
    r.target = "/?" + r.query;
    return r;
  }
  static std::string code(const HttpResponse& r) {
    auto p = r.body.find("\"Code\":\"");
    if (p == std::string::npos) return "";
    return r.body.substr(p + 8, r.body.find('"', p + 8) - p - 8);
  }

  std::string acct_, root_id_, root_secret_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RpcEndpoint> ep_;
  std::unique_ptr<mq::MqService> mq_;
};

}  // namespace sluice::api::testing
