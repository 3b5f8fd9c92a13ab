#pragma once
// The audit log: every management API call and every MQTT authentication
// failure or denial, persisted in the store (table audit_events, created by
// this file's own migration), kept for a bounded time (90 days by default),
// queried by Actiontrail LookupEvents and exported as JSON lines. API calls
// refused before anyone was identified are aggregated per source and reason
// (audit_refusals.hpp).
//
// record() only queues: a background thread writes batches in one transaction
// every flush interval, so auditing costs the request path a lock and a move.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace sluice::store {
class Store;
class Db;
}

namespace sluice::api {

struct AuditEvent {
  int64_t id = 0;                // assigned when stored
  int64_t time_ms = 0;           // Unix milliseconds
  std::string event_type;        // "ApiCall" | "MqttAuth"
  std::string event_source;      // "ram.aliyuncs.com", "mqtt"
  std::string event_name;        // the action: "CreateUser", "Connect", "Publish"
  std::string account_id;        // whose account ("" if unknown)
  std::string identity_type;     // "root-account" | "ram-user" | "assumed-role" | "anonymous"
  std::string user_name;         // RAM user / role name
  std::string session_name;      // role sessions
  std::string source_identity;   // role sessions: AssumeRole's SourceIdentity, "" if none
  std::string access_key_id;
  std::string source_ip;
  std::string user_agent;        // the HTTP User-Agent; "sluice-console" for console calls
  std::string request_id;
  std::string parameters;        // JSON object, secrets masked
  std::string error_code;        // "" on success
  std::string error_message;
  int http_status = 200;
};

struct AuditOptions {
  int64_t retention_days = 90;
  unsigned flush_ms = 100;
  size_t max_queue = 100'000;    // beyond this, events are written by the caller (back-pressure)
  // API requests refused with nobody identified (is_unidentified_refusal):
  // one row per source and reason as it happens, then one with the count per
  // window (audit_refusals.hpp), for at most this many sources at once.
  int64_t refusal_window_ms = 60'000;
  size_t refusal_sources = 256;
};

// The event of a request refused before any handler saw it (malformed, oversized).
inline constexpr const char* kRefusedRequest = "RefusedRequest";

// An API call (event type "ApiCall") refused before any account was identified:
// malformed or oversized (kRefusedRequest), unsigned, an unknown access key.
// Anyone can cause those at will, so they are aggregated, and their parameters
// (over 2 KiB) and error message (over 512 bytes) are cut.
bool is_unidentified_refusal(const AuditEvent& e);

class RefusalAggregator;

// ActionTrail's eventRW: "Read" for an operation that only looks (its name
// starts Get, List, Query, BatchQuery, Lookup or Describe), else "Write".
inline constexpr const char* kReadEventPrefixes[] = {"Get", "List", "Query", "BatchQuery", "Lookup", "Describe"};
bool is_read_event(std::string_view event_name);

struct AuditQuery {
  std::string account_id;                 // required for API lookups ("" = all, admin export)
  std::optional<int64_t> start_ms, end_ms;
  std::optional<std::string> event_name;
  std::optional<std::string> user_name;
  std::optional<std::string> access_key_id;
  std::optional<std::string> event_type;
  std::optional<bool> read;               // ActionTrail's EventRW: Read (true) or Write (false)
  size_t max_results = 50;
  int64_t before_id = 0;                  // paging: only ids below this (0 = from newest)
};

class AuditLog {
 public:
  AuditLog(std::shared_ptr<store::Store> store, AuditOptions opts = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void record(AuditEvent e);
  void flush();  // writes what is queued now
  // Newest first. `next_before` is set when more remain (pass as before_id).
  std::vector<AuditEvent> lookup(const AuditQuery& q, int64_t* next_before = nullptr);
  // Oldest first, one JSON object per line. Returns the count written.
  size_t export_jsonl(std::ostream& out, const AuditQuery& q);
  // Deletes events older than the retention; returns how many.
  size_t prune(int64_t now_ms);

  static std::string to_json(const AuditEvent& e);

 private:
  void run();
  // Under mu_: the refusal summaries whose window ended (all of them when `all`).
  void take_refusal_summaries(std::vector<AuditEvent>& batch, bool all);
  void write_batch(std::vector<AuditEvent>& batch);
  // Runs fn(db) on the log's connection: on PostgreSQL a connection of its own
  // (own_mu_), so that writing a batch (several round trips) never holds the
  // store mutex that every API read and the change feeds wait for; on SQLite
  // the store's single connection under the store mutex (one writer per file).
  template <class F>
  auto with_db(F&& fn);

  std::shared_ptr<store::Store> store_;
  std::unique_ptr<store::Db> own_db_;  // PostgreSQL only
  std::mutex own_mu_;                  // own_db_'s
  AuditOptions opts_;
  std::mutex mu_;
  std::mutex write_mu_;  // held while a batch is taken and written (flush waits for one in flight)
  std::condition_variable cv_;
  std::vector<AuditEvent> queue_;
  std::unique_ptr<RefusalAggregator> refusals_;  // under mu_
  bool stop_ = false;
  int64_t last_prune_ms_ = 0;
  std::thread thread_;
};

// Masks secrets in a parameter list for the audit record (AccessKeySecret,
// Password, Signature, SecurityToken, tokens, ...): value -> "******".
bool is_secret_parameter(std::string_view name);

}  // namespace sluice::api
