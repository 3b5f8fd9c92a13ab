#pragma once
// Who sent a request to the RPC endpoint, proved by its signature: the two
// signing schemes (V1 parameters, V3 Authorization header; signature.hpp
// computes both), the access key's state (disabled, an STS key's expiry and
// SecurityToken), the timestamp window and nonce replay. rpc.cpp does the rest
// (which operation, its parameters, rate limits, running it, audit).
//
// Two steps, so that a request naming no known operation is answered that way
// before any key is looked up:
//   read_rpc_request  what the request asks for (action, version, parameters),
//                     laid out as its signing scheme puts them;
//   RequestAuthenticator::authenticate  whether its signature is the key's.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "api/encoding.hpp"
#include "api/http_server.hpp"
#include "api/rpc.hpp"  // ApiError
#include "api/signature.hpp"
#include "iam/model.hpp"

namespace sluice::iam {
class Authorizer;
}

namespace sluice::api {

// What a request asks for, read before anything in it is trusted.
struct RpcRequest {
  bool v3 = false;             // Authorization: ACS3-...; else V1 (signature in the parameters)
  std::string action, version; // V3: x-acs-action / x-acs-version; V1: the Action / Version parameters
  Params query;                // the query string's parameters
  Params form;                 // a form body's parameters (none when the body is not a form)
};

// Fills `out` as it reads, so that on a refusal (ApiError: a malformed escape,
// a parameter given twice) `out` holds what was read, for the audit record.
// Does not check that action and version are given (the dispatcher does).
void read_rpc_request(const HttpRequest& req, RpcRequest& out);

// The outcome of authenticate(). On a refusal, what is known about the caller
// so far is still set, so that the refusal is audited in the right account.
struct Authentication {
  // The key's principal, once the signature matched and the key may be used
  // (also when the nonce then turns out replayed: the audit names who).
  std::optional<iam::Principal> principal;
  // The call's parameters: V1, the query and form body (every one is signed);
  // V3, the query, and the form body once the signature covering its hash matched.
  Params params;
  // The access key named and its account, known once the key is found (before
  // the signature is checked).
  std::string access_key_id, account_id;
  std::optional<ApiError> error;  // set: refused, answer this
  // Set by authenticate(..., defer_shared = true) when the request passed
  // everything but the shared nonce check, which the caller makes
  // (RequestAuthenticator::check_shared) before it trusts the request.
  struct SharedNonce {
    std::string key_id, nonce;
    int64_t now = 0;
  };
  std::optional<SharedNonce> shared_nonce;
};

class NonceLedger;

class RequestAuthenticator {
 public:
  // window_seconds: how far a request's timestamp may be from the server clock;
  // nonces are remembered for twice that. `shared` (optional): the nonces of
  // every node of a PostgreSQL store (nonce_ledger.hpp), asked after this
  // node's own cache.
  RequestAuthenticator(iam::Authorizer* authz, int64_t window_seconds, NonceLedger* shared = nullptr);
  // `now`: the service clock (Unix seconds). `defer_shared`: leave the
  // shared ledger's check to the caller (Authentication::shared_nonce).
  Authentication authenticate(const HttpRequest& req, const RpcRequest& r, int64_t now, bool defer_shared = false);
  // The deferred check: `done(error)` with no error when the nonce is new on
  // every node, else SignatureNonceUsed or ServiceUnavailable (store out of
  // reach). `done` is called once, possibly on the ledger's thread.
  void check_shared(const Authentication::SharedNonce& n, std::function<void(std::optional<ApiError>)> done);

 private:
  bool shared_first_use(std::string_view key_id, std::string_view nonce, int64_t now);
  iam::Authorizer* authz_;
  int64_t window_;
  NonceCache nonces_;
  NonceLedger* shared_;
};

}  // namespace sluice::api
