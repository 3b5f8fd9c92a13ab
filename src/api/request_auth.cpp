#include "api/request_auth.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include "api/nonce_ledger.hpp"
#include "common/log.hpp"
#include "iam/authorizer.hpp"
#include "store/db.hpp"
#include "store/crypto.hpp"

namespace sluice::api {

namespace {

const std::string* find_param(const Params& p, std::string_view name) {
  for (const auto& [k, v] : p)
    if (k == name) return &v;
  return nullptr;
}

// (what the caller sent, what it must be), compared in constant time.
bool constant_time_eq(std::string_view given, std::string_view expected) {
  return store::constant_time_equal(given, expected);
}

// V3: a signature covers only the headers listed in SignedHeaders, so every
// header that decides what runs or how the request is read must be among them:
// host, every x-acs-* header sent (x-acs-action and x-acs-version choose the
// operation; x-acs-content-sha256 binds the body; the date and nonce guard
// against replay), and content-type when sent (it decides whether the body is
// read as form parameters). Otherwise a request signed for one operation could
// be re-sent as another (issue #14, finding 7). The operation's headers must
// also be given once: two values would make the canonical request ambiguous.
void require_signed_headers(const HttpRequest& req, const V3Authorization& a) {
  auto is_signed = [&](std::string_view name) {
    return std::find(a.signed_headers.begin(), a.signed_headers.end(), name) != a.signed_headers.end();
  };
  auto unsigned_header = [](std::string_view name) {
    fail("IncompleteSignature", 400,
         "The request signature does not cover the header " + std::string(name) +
             ": list it in SignedHeaders (host, every x-acs-* header sent and content-type must be signed).");
  };
  for (const char* must : {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                           "x-acs-content-sha256"})
    if (!is_signed(must)) unsigned_header(must);
  std::map<std::string_view, int> seen;
  for (const auto& [name, _] : req.headers) {
    const bool selects = name.rfind("x-acs-", 0) == 0 || name == "host" || name == "content-type";
    if (selects && !is_signed(name)) unsigned_header(name);
    if ((name == "x-acs-action" || name == "x-acs-version" || name == "host") && ++seen[name] == 2)
      fail("IncompleteSignature", 400, "The header " + name + " is given more than once; give it once.");
  }
}

// The fields a signature scheme carries, read from the request.
struct Credentials {
  std::string key_id, signature, nonce, timestamp, token;
};

// One authentication in progress: `out` learns the caller as the checks pass.
class Verifier {
 public:
  Verifier(iam::Authorizer* authz, int64_t window, int64_t now, Authentication& out)
      : authz_(authz), window_(window), now_(now), out_(out) {}

  // Both schemes, once their fields are read: the timestamp within the window,
  // then the key (found before the signature is checked, so that the audit
  // record names the account) ...
  iam::AccessKeyInfo timely_key(const Credentials& c) {
    auto ts = parse_timestamp(c.timestamp);
    if (!ts)
      fail("InvalidTimeStamp.Format", 400,
           "Specified time stamp or date value is not well formatted: \"" + c.timestamp +
               "\" (want UTC YYYY-MM-DDThh:mm:ssZ).");
    if (*ts < now_ - window_ || *ts > now_ + window_)
      fail("InvalidTimeStamp.Expired", 400,
           "Specified time stamp or date value is expired: " + c.timestamp +
               " is more than 15 minutes from the server time " + format_timestamp(now_) + "; check the client clock.");
    auto info = authz_->lookup_access_key(c.key_id);
    if (!info && info.error().http_status == 503) fail(info.error());  // the store is out of reach: say so
    if (!info) fail("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found: " + c.key_id + ".");
    out_.account_id = info->principal.account_id;
    out_.access_key_id = c.key_id;
    return std::move(*info);
  }

  // ... the signature the caller sent against the one the key's secret makes ...
  static void signature_matches(const Credentials& c, const std::string& expected, const std::string& string_to_sign) {
    if (!constant_time_eq(c.signature, expected))
      fail("SignatureDoesNotMatch", 400,
           "Specified signature is not matched with our calculation. Check the AccessKeySecret. Server "
           "StringToSign is: " + string_to_sign);
  }

  // ... and, once the signature matched, that the key may be used now.
  void usable_key(const Credentials& c, const iam::AccessKeyInfo& info, const char* token_where) {
    if (info.expires_at && info.expires_at <= now_)
      fail("InvalidSecurityToken.Expired", 400, "Specified SecurityToken is expired; call AssumeRole again.");
    if (info.status != iam::KeyStatus::Active)
      fail("InvalidAccessKeyId.Inactive", 400, "Specified access key is disabled: " + c.key_id + ".");
    if (!info.security_token.empty()) {
      if (c.token.empty())
        fail("MissingSecurityToken", 400, std::string("An STS access key needs its SecurityToken ") + token_where + ".");
      if (!constant_time_eq(c.token, info.security_token))
        fail("InvalidSecurityToken.MismatchWithAccessKey", 400,
             "Specified SecurityToken does not belong to the access key " + c.key_id + ".");
    }
    out_.principal = info.principal;
    authz_->note_key_used(c.key_id);  // GetAccessKeyLastUsed: memory now, the store in a batch
  }

  // V3: the Authorization header names the key and the signed headers; the
  // date, nonce, token and body hash are x-acs-* headers.
  Credentials v3(const HttpRequest& req, const RpcRequest& r, const std::string& authorization) {
    auto a = parse_v3_authorization(authorization);
    if (!a)
      fail("IncompleteSignature", 400,
           "The Authorization header must be \"ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2>,"
           "Signature=<hex>\".");
    Credentials c;
    c.key_id = a->access_key_id;
    c.signature = a->signature;
    auto hdr = [&](const char* n) -> std::string {
      auto* v = req.header(n);
      return v ? *v : std::string();
    };
    c.timestamp = hdr("x-acs-date");
    c.nonce = hdr("x-acs-signature-nonce");
    c.token = hdr("x-acs-security-token");
    if (c.timestamp.empty())
      fail("MissingTimestamp", 400, "The x-acs-date header is mandatory (UTC, YYYY-MM-DDThh:mm:ssZ).");
    if (c.nonce.empty()) fail("MissingSignatureNonce", 400, "The x-acs-signature-nonce header is mandatory.");
    std::string payload = hdr("x-acs-content-sha256");
    if (payload.empty())
      fail("MissingContentSHA256", 400, "The x-acs-content-sha256 header (hex SHA-256 of the body) is mandatory.");
    if (!constant_time_eq(payload, hex(sha256(req.body))))
      fail("ContentSHA256NotMatch", 400, "The x-acs-content-sha256 header does not match the SHA-256 of the request body.");
    require_signed_headers(req, *a);
    auto info = timely_key(c);
    std::string cr = v3_canonical_request(req.method, req.path, r.query, req.headers, a->signed_headers, payload);
    std::string sts = v3_string_to_sign(cr);
    signature_matches(c, v3_sign(info.secret, sts), sts);
    usable_key(c, info, "(x-acs-security-token)");
    // The body is the call's too now: its hash was signed and matched.
    out_.params.insert(out_.params.end(), r.form.begin(), r.form.end());
    return c;
  }

  // V1: everything is a parameter, and every parameter but Signature is signed.
  Credentials v1(const HttpRequest& req) {
    const Params& params = out_.params;
    auto need = [&](const char* n) -> std::string {
      auto* v = find_param(params, n);
      if (!v || v->empty()) fail(std::string("Missing") + n, 400, std::string(n) + " is mandatory for this action.");
      return *v;
    };
    Credentials c;
    c.key_id = need("AccessKeyId");
    c.signature = need("Signature");
    c.timestamp = need("Timestamp");
    c.nonce = need("SignatureNonce");
    std::string method = need("SignatureMethod");
    if (method != "HMAC-SHA1")
      fail("InvalidSignatureMethod", 400,
           "Specified signature method \"" + method +
               "\" is not supported; use HMAC-SHA1 (or the ACS3-HMAC-SHA256 Authorization header).");
    std::string sv = need("SignatureVersion");
    if (sv != "1.0")
      fail("InvalidSignatureVersion", 400, "Specified signature version \"" + sv + "\" is not supported; use 1.0.");
    if (auto* t = find_param(params, "SecurityToken")) c.token = *t;
    auto info = timely_key(c);
    Params signed_params;
    signed_params.reserve(params.size());
    for (const auto& kv : params)
      if (kv.first != "Signature") signed_params.push_back(kv);
    std::string sts = v1_string_to_sign(req.method, signed_params);
    signature_matches(c, v1_sign(info.secret, sts), sts);
    usable_key(c, info, "parameter");
    return c;
  }

 private:
  iam::Authorizer* authz_;
  int64_t window_;
  int64_t now_;
  Authentication& out_;
};

}  // namespace

void read_rpc_request(const HttpRequest& req, RpcRequest& out) {
  if (!parse_query(req.query, out.query)) fail("InvalidParameter", 400, "The query string has a malformed percent-escape.");
  // A body is form parameters when it says so, or says nothing.
  const std::string* ctype = req.header("content-type");
  const bool form_body = !req.body.empty() && (!ctype || ctype->rfind("application/x-www-form-urlencoded", 0) == 0);
  if (form_body && !parse_query(req.body, out.form))
    fail("InvalidParameter", 400, "The form body has a malformed percent-escape.");

  const std::string* authz = req.header("authorization");
  out.v3 = authz && authz->rfind("ACS3-", 0) == 0;
  // Action and Version: V3 headers; V1 parameters.
  if (out.v3) {
    if (auto* a = req.header("x-acs-action")) out.action = *a;
    if (auto* v = req.header("x-acs-version")) out.version = *v;
  }
  Params all = out.query;
  all.insert(all.end(), out.form.begin(), out.form.end());
  // A parameter given twice is ambiguous: reject rather than pick one.
  std::map<std::string_view, int> seen;
  for (const auto& [k, _] : all)
    if (++seen[k] == 2)
      fail("InvalidParameter.Duplicate", 400, "The parameter " + k + " is given more than once; give each parameter once.");
  if (!out.v3) {
    if (auto* a = find_param(all, "Action")) out.action = *a;
    if (auto* v = find_param(all, "Version")) out.version = *v;
  }
}

RequestAuthenticator::RequestAuthenticator(iam::Authorizer* authz, int64_t window_seconds, NonceLedger* shared)
    : authz_(authz), window_(window_seconds), nonces_(2 * window_seconds), shared_(shared) {}

namespace {
ApiError nonce_used() {
  return {"SignatureNonceUsed", 400,
          "Specified signature nonce was used already: send a fresh random SignatureNonce with every request.", {}};
}
ApiError ledger_unreachable() {
  return {"ServiceUnavailable", 503,
          "The service is temporarily unavailable: the shared store cannot be reached to check the signature "
          "nonce. Try again shortly.",
          {}};
}
}  // namespace

bool RequestAuthenticator::shared_first_use(std::string_view key_id, std::string_view nonce, int64_t now) {
  if (!shared_) return true;
  try {
    return shared_->first_use(key_id, nonce, now, 2 * window_);
  } catch (const store::DbError& e) {
    if (e.kind == store::DbError::Kind::Unavailable) throw ledger_unreachable();
    throw;
  }
}

void RequestAuthenticator::check_shared(const Authentication::SharedNonce& n,
                                        std::function<void(std::optional<ApiError>)> done) {
  if (!shared_) return done(std::nullopt);
  shared_->submit(n.key_id, n.nonce, n.now, 2 * window_, [done = std::move(done)](bool fresh, std::exception_ptr error) {
    if (!error) return fresh ? done(std::nullopt) : done(nonce_used());
    try {
      std::rethrow_exception(error);
    } catch (const store::DbError& e) {
      if (e.kind == store::DbError::Kind::Unavailable) return done(ledger_unreachable());
      log::error("api: signature nonce check failed: {}", e.what());
    } catch (const std::exception& e) {
      log::error("api: signature nonce check failed: {}", e.what());
    }
    done(ApiError{"InternalError", 500, "The request processing has failed due to some unknown error.", {}});
  });
}

Authentication RequestAuthenticator::authenticate(const HttpRequest& req, const RpcRequest& r, int64_t now,
                                                  bool defer_shared) {
  Authentication out;
  out.params = r.query;
  // V1 signs the form body's parameters with the query's.
  if (!r.v3) out.params.insert(out.params.end(), r.form.begin(), r.form.end());
  try {
    Verifier verify(authz_, window_, now, out);
    const std::string* authorization = req.header("authorization");
    const Credentials c = r.v3 && authorization ? verify.v3(req, r, *authorization) : verify.v1(req);
    // Remembered only once authentic, so that nobody can spend another key's nonces.
    // This node's cache first (no round trip); then every node's (PostgreSQL).
    if (!nonces_.first_use(c.key_id, c.nonce, now)) throw nonce_used();
    if (shared_ && defer_shared)
      out.shared_nonce = Authentication::SharedNonce{c.key_id, c.nonce, now};
    else if (!shared_first_use(c.key_id, c.nonce, now))
      throw nonce_used();
  } catch (const ApiError& e) {
    out.error = e;
  }
  return out;
}

}  // namespace sluice::api
