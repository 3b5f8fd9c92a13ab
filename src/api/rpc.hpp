#pragma once
// The RPC endpoint ("/" on the HTTP port) and what the product files see of it.
// A request is authenticated (request_auth.hpp: V1 and V3 signatures, key state,
// replay defences), dispatched by Version + Action to the operation a product
// file registered (registry.cpp), held to the operation's parameter contract
// (parameters.hpp) and rate limit, run with a Call (call.cpp) that authorizes
// each action, and answered in the cloud's format; every call is audited
// (call_audit.hpp). Dispatch itself: rpc.cpp.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/encoding.hpp"
#include "api/http_server.hpp"
#include "api/json_writer.hpp"
#include "api/parameters.hpp"
#include "iam/authorizer.hpp"
#include "iam/errors.hpp"
#include "iam/iam_service.hpp"

namespace sluice::mq {
class MqService;
}
namespace sluice::broker {
struct Message;
}

namespace sluice::api {

class AuditLog;
struct AuditEvent;
class NonceLedger;

struct RpcServices {
  iam::IamService* iam = nullptr;
  iam::Authorizer* authz = nullptr;
  AuditLog* audit = nullptr;      // optional
  mq::MqService* mq = nullptr;    // optional: OnsMqtt answers ServiceUnavailable without it
  NonceLedger* nonces = nullptr;  // optional: signature nonces shared by the nodes of a PostgreSQL store
  // Publishes a message into a namespace (an instance) from outside the MQTT
  // event loops (SendMessage). Wired in serve.cpp to net::Server, which runs the
  // publish on an event loop; the API layer never touches the loops itself.
  // `origin` names the publisher in message traces. False when there is no
  // such namespace. Null: SendMessage answers ServiceUnavailable.
  std::function<bool(const std::string& ns, std::shared_ptr<const broker::Message> m, const std::string& origin)>
      publish;
  // Live counters of a namespace, for DescribeMqttMetaData (null: all zero).
  struct NamespaceCounters {
    uint64_t online_clients = 0, subscriptions = 0, messages_in = 0, messages_out = 0, denied = 0, queued = 0;
  };
  std::function<NamespaceCounters(const std::string& ns)> counters;
  // In a cluster (issue 17): each node's figures for namespace `ns` from its
  // last heartbeat, and the answering node's name; unset on a single node.
  struct NodeCounters {
    std::string node;
    bool alive = false, self = false;
    int64_t online_clients = 0, messages_last_second = 0;
  };
  std::function<std::vector<NodeCounters>(const std::string& ns)> node_counters;
  // Where clients connect ("host:port" per transport; empty: that listener is
  // off), shown in the instance description as the cloud shows its endpoints.
  struct Endpoints {
    std::string tcp, tls, ws, wss;
  } endpoints;
};

struct RpcOptions {
  int64_t timestamp_window_seconds = 900;  // the cloud's 15 minutes
  // Requests per second per account and action; 0 or absent = unlimited.
  std::map<std::string, double, std::less<>> rate_limits = {
      {"ApplyToken", 100}, {"QueryToken", 100}, {"RevokeToken", 5}, {"SendMessage", 1000}};
  std::string host_id = "sluice";
  // Applies SLUICE_API_RATE_LIMITS ("ApplyToken=100,RevokeToken=5,ListGroupId=0").
  static RpcOptions from_env();
};

// An error answered to the client: {"RequestId","HostId","Code","Message"}.
struct ApiError {
  std::string code;
  int status = 400;
  std::string message;
  // NoPermission: the cloud's AccessDeniedDetail object (raw JSON), else empty.
  std::string access_denied_detail;
};
[[noreturn]] void fail(std::string code, int status, std::string message);
[[noreturn]] void fail(const iam::Error& e);
template <class T>
T unwrap(iam::Result<T> r) {
  if (!r) fail(r.error());
  return std::move(r).value();
}
inline void unwrap(iam::Status s) {
  if (!s) fail(s.error());
}

class RpcEndpoint;

// One call being served: its parameters, its caller, and its response body
// (already holding "RequestId"; an operation adds its own fields).
class Call {
 public:
  Call(RpcEndpoint& ep, Params params, iam::Principal who, std::string source_ip, std::string request_id);

  // ---- parameters ----
  const Params& params() const { return params_; }
  std::optional<std::string> opt(std::string_view name) const;
  // Missing or empty: "Missing<Name>" (400) "<Name> is mandatory for this action."
  std::string req(std::string_view name) const;
  int64_t opt_int(std::string_view name, int64_t def, int64_t lo, int64_t hi) const;
  std::optional<bool> opt_bool(std::string_view name) const;
  // Every read names a parameter the operation's contract implements
  // (parameters.hpp); reading any other one is a bug, answered InternalError.
  // "Name.1", "Name.2", ... (the SDKs' repeat-list flattening).
  std::vector<std::string> list(std::string_view name) const;
  // "Name.1.Field", ... -> one map per index, in index order.
  std::vector<std::map<std::string, std::string>> list_of_objects(std::string_view name) const;

  // ---- caller ----
  const iam::Principal& principal() const { return who_; }
  const std::string& account() const { return who_.account_id; }
  const std::string& source_ip() const { return source_ip_; }
  const std::string& request_id() const { return request_id_; }
  RpcServices& svc();
  iam::IamService& iam() { return *svc().iam; }
  int64_t now() const;
  // "acs:<service>:*:<account>:<relative>"
  std::string arn(std::string_view service, std::string_view relative) const;
  // Throws NoPermission (403) naming the action and resource unless allowed.
  void authorize(std::string_view action, const std::string& resource, std::string_view resource_group = {},
                 iam::DecideOptions opts = {});
  void authorize(std::string_view action, std::span<const std::string> resources, std::string_view resource_group,
                 iam::DecideOptions opts = {});
  // With the resource group of the registered resource (type, id) looked up.
  void authorize_on(std::string_view action, std::span<const std::string> resources, std::string_view type,
                    std::string_view id);
  // For what a security preference lets RAM users do to themselves without a
  // policy (ChangePassword, own access keys, own MFA device): allowed unless a
  // policy explicitly denies it.
  void authorize_unless_denied(std::string_view action, const std::string& resource);
  bool authorized() const { return authorized_; }
  void mark_authorized() { authorized_ = true; }  // operations any signed caller may call
  // The call came from a console session (RpcEndpoint::invoke), not a signed request:
  // a few operations need the console's own action (mq:SendMqttMessageByConsole).
  bool from_console() const { return from_console_; }
  void set_from_console() { from_console_ = true; }
  void set_contract(const ParameterContract* c) { contract_ = c; }

  // Records an audit event of this call's own (beside the ApiCall record the
  // endpoint writes): time, request id, source address and the caller's
  // identity are filled in; the rest is the caller's. No-op without an audit log.
  void audit(AuditEvent ev);

  JsonWriter& out() { return out_; }

 private:
  RpcEndpoint& ep_;
  Params params_;
  iam::Principal who_;
  std::string source_ip_;
  std::string request_id_;
  bool authorized_ = false;
  bool from_console_ = false;
  const ParameterContract* contract_ = nullptr;
  void check_read(std::string_view name) const;
  JsonWriter out_;
};

using OpFn = void (*)(Call&);

struct Operation {
  std::string product;  // "Ram"
  std::string version;  // "2015-05-01"
  std::string action;   // "CreateUser"
  OpFn fn = nullptr;
  const ParameterContract* params = nullptr;  // parameters.hpp; null: none declared
};

// Every operation the endpoint knows, by version then action.
class Registry {
 public:
  void add(std::string product, std::string version, std::string action, OpFn fn);
  const Operation* find(std::string_view version, std::string_view action) const;
  // By product name ("OnsMqtt") instead of version: the console names products.
  const Operation* find_by_product(std::string_view product, std::string_view action) const;
  bool knows_version(std::string_view version) const;
  std::string product_of(std::string_view version) const;
  std::vector<const Operation*> all() const;
  // (product, version) of every product, in the order they were first added.
  const std::vector<std::pair<std::string, std::string>>& products() const { return products_; }

 private:
  std::map<std::string, std::map<std::string, Operation, std::less<>>, std::less<>> ops_;
  std::vector<std::pair<std::string, std::string>> products_;
};

// One file per product adds its operations.
void add_ram_operations(Registry& r);
void add_sts_operations(Registry& r);
void add_resourcemanager_operations(Registry& r);
void add_ons_operations(Registry& r);
void add_actiontrail_operations(Registry& r);
void add_onsmqtt_operations(Registry& r);
void add_ims_operations(Registry& r);  // ims.cpp
const Registry& all_operations();

class RpcEndpoint {
 public:
  RpcEndpoint(RpcServices svc, RpcOptions opts = {});
  ~RpcEndpoint();
  HttpResponse handle(const HttpRequest& req);
  // The same, answering through `respond`: with a shared nonce ledger
  // (PostgreSQL) the call runs once the ledger answers, and no HTTP thread
  // waits for that meanwhile; otherwise it is answered before this returns.
  void handle_async(const HttpRequest& req, HttpResponder respond);
  // Runs one operation for a principal authenticated some other way (a console
  // session): the same rate limits, authorization, validation, response and
  // audit as a signed call, without the signature checks. The audit record has
  // no AccessKeyId and the given channel as its user agent.
  // `background`: a read the console makes on its own (the Overview's polling),
  // not a person's action — answered alike, but not audited when it is a read
  // (is_read_event) that succeeded; a refusal or any write is audited as ever.
  HttpResponse invoke(const iam::Principal& who, std::string_view product, std::string_view action, Params params,
                      const std::string& source_ip, std::string_view channel = "sluice-console",
                      bool background = false);
  RpcServices& services() { return svc_; }
  const RpcOptions& options() const { return opts_; }

 private:
  // Rate limit, run, authorization check: the part shared by handle() and invoke().
  std::string run(const Operation& op, const iam::Principal& who, const Params& params, const std::string& source_ip,
                  const std::string& request_id, bool from_console = false);

  struct Pending;
  std::optional<HttpResponse> begin(const HttpRequest& req, Pending& p, bool defer_nonce);  // nullopt: deferred
  HttpResponse complete(Pending& p, const std::optional<ApiError>& nonce_refused);
  HttpResponse refuse(Pending& p, const std::function<HttpResponse()>& stage);  // ApiError -> the cloud's answer
  HttpResponse finish(Pending& p, HttpResponse r);                              // audits it

  struct Impl;
  std::unique_ptr<Impl> impl_;
  RpcServices svc_;
  RpcOptions opts_;
};

// Registers "/" on the server. The endpoint lives as long as the route.
// Returns the endpoint so that other routes (the console) can share it.
std::shared_ptr<RpcEndpoint> register_rpc(HttpServer& http, RpcServices svc, RpcOptions opts = RpcOptions::from_env());
// The error body {"RequestId","HostId","Code","Message"[,"AccessDeniedDetail"]}.
std::string error_body(const std::string& request_id, const std::string& host_id, const ApiError& e);

// Shared helpers for the product files.
std::string iso_time(int64_t unix_seconds);  // "2024-05-01T12:00:00Z"
std::string new_request_id();                // "8C3B5F1E-...": the cloud's uppercase UUID form

}  // namespace sluice::api
