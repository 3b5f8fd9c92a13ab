// NATS: the nats target (outflow and status rules publish to a JetStream
// subject and wait for the stream's acknowledgement: at least once; the
// Nats-Msg-Id "<rule key>/<seq>" lets JetStream drop a retry's duplicate; a
// backlog goes as asynchronous publishes, one wait for all their acks), and
// the inflow sources (each message is published into the instance on the
// rule's SourceTopic at QoS 1): a JetStream durable consumer when the rule
// names a Stream (at least once), else a core NATS subscription (at most once).
//
// TargetConfig: {"Url": "nats://host:4222", "Subject": "a.b", "Stream": "NAME"};
// with Stream, the stream is created for the subject if it does not exist.
// "Batch": N (2-1000, optional) makes a backlog go as JetStream messages of up
// to N entries each, NDJSON as the webhook's batched bodies (one JSON object a
// line, each with its seq), Nats-Msg-Id "<rule key>/<first seq>-<last seq>":
// one publish and one ack for N entries instead of N of each (libnats' cost is
// per message). A single entry is still one JSON object.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common/crypto.hpp"
#include "common/egress.hpp"
#include "common/log.hpp"
#include "rules/envelope.hpp"
#include "rules/source.hpp"
#include "rules/targets_internal.hpp"

namespace sluice::rules {

namespace {

void open_nats() {
  static std::once_flag once;
  std::call_once(once, [] { nats_Open(-1); });  // a no-op error if the cluster opened it first
}

std::string text(natsStatus s) { return natsStatus_GetText(s); }

// One connection; libnats reconnects by itself.
// `background`: do not wait for the server (an inflow made while NATS is down
// subscribes once it is up; never blocks the caller).
// The rule's Url with its host replaced by an address a tenant's rule may
// reach (common/egress.hpp): libnats reconnects to that address, never to a
// name that could resolve elsewhere later. Empty with `error` when refused.
std::string pinned_url(const std::string& url, std::string& error) {
  const auto u = common::split_url_host(url);
  if (!u) {
    error = "the NATS Url \"" + url + "\" has no host";
    return {};
  }
  const int port = u->port ? u->port : 4222;
  const auto addrs = common::egress_policy().resolve(u->host, port, error);
  if (addrs.empty()) return {};
  const std::string& ip = addrs.front().text;
  return u->scheme + "://" + (u->userinfo.empty() ? "" : u->userinfo + "@") +
         (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
  // Nothing after host:port: libnats reads "url1,url2" as two servers, and a
  // second one here would be unchecked.
}

natsConnection* connect(const std::string& url, std::string& error, bool background = false) {
  open_nats();
  const std::string pinned = pinned_url(url, error);
  if (pinned.empty()) {
    error = "NATS: " + error;
    return nullptr;
  }
  natsOptions* o = nullptr;
  natsOptions_Create(&o);
  natsOptions_SetURL(o, pinned.c_str());
  // The servers a NATS server tells of are not the rule's Url: never followed.
  natsOptions_SetIgnoreDiscoveredServers(o, true);
  natsOptions_SetName(o, "sluice-rules");
  natsOptions_SetMaxReconnect(o, -1);
  natsOptions_SetReconnectWait(o, 250);
  natsOptions_SetTimeout(o, 2000);
  if (background) natsOptions_SetRetryOnFailedConnect(o, true, nullptr, nullptr);
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK && !(background && s == NATS_NOT_YET_CONNECTED)) {
    // The host, not the Url: it may carry a password, and errors are shown and logged.
    const auto u = common::split_url_host(url);
    error = "cannot reach NATS at " + (u ? u->host : std::string("the rule's Url")) + ": " + text(s);
    return nullptr;
  }
  return nc;
}

// Makes a file-backed stream of one subject unless it exists (then it is used
// as it is). Empty when it exists or was made, else what went wrong.
std::string ensure_stream(jsCtx* js, const std::string& stream, const std::string& subject) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.c_str();
  const char* subjects[] = {subject.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &err);
  if (si) jsStreamInfo_Destroy(si);
  return s == NATS_OK || err == JSStreamNameExistErr ? std::string() : text(s);
}

class NatsTarget final : public Target {
 public:
  explicit NatsTarget(const mq::Rule& rule)
      : rule_(rule), url_(config_field(rule, "Url")), subject_(config_field(rule, "Subject")),
        stream_(config_field(rule, "Stream")), linger_ms_(linger_of(rule)),
        lines_(std::clamp(std::atoi(config_field(rule, "Batch").c_str()), 0, 1000)) {}
  ~NatsTarget() override { close(); }

  size_t max_batch() const override { return lines_ > 1 ? static_cast<size_t>(lines_) : 256; }
  int linger_ms() const override { return linger_ms_; }

  // A batch: every entry published without waiting (js_PublishAsync), then one
  // wait for all the stream's acks. Any failure retries the whole batch: the
  // entries JetStream already has are dropped there as duplicates (Nats-Msg-Id).
  size_t deliver_batch(const std::vector<Entry>& batch, Outcome& o, std::string& error) override {
    o = Outcome::Retry;
    if (!js_ && !open(error)) return 0;
    if (lines_ > 1) return deliver_lines(batch, o, error);
    failed_.store(0);
    for (const Entry& e : batch) {
      const Publication p = publication(e);
      jsPubOptions po = p.options();
      natsStatus s = js_PublishAsync(js_, subject_.c_str(), p.body.data(), static_cast<int>(p.body.size()), &po);
      if (s != NATS_OK) {
        error = "NATS JetStream publish to " + subject_ + ": " + text(s);
        drain();
        return 0;
      }
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = 5000;
    natsStatus s = js_PublishAsyncComplete(js_, &wait);
    if (s != NATS_OK) {
      error = "NATS JetStream acks from " + subject_ + ": " + text(s);
      drain();
      return 0;
    }
    if (failed_.load() != 0) {
      std::lock_guard lk(err_mu_);
      error = "NATS JetStream publish to " + subject_ + ": " + async_error_;
      return 0;
    }
    o = Outcome::Delivered;
    return batch.size();
  }

  Outcome deliver(const Entry& e, std::string& error) override {
    if (!js_ && !open(error)) return Outcome::Retry;
    return publish_sync(publication(e), error);
  }

 private:
  // Batch > 1: the entries as one NDJSON message (one publish, one ack).
  size_t deliver_lines(const std::vector<Entry>& batch, Outcome& o, std::string& error) {
    // Within the server's max_payload: the rest goes in the next message.
    const auto max = static_cast<size_t>(std::max<int64_t>(natsConnection_GetMaxPayload(nc_), 1024));
    body_.clear();
    size_t n = 0;
    for (const Entry& e : batch) {
      const size_t before = body_.size();
      if (rule_.type == "status") body_.append(e.message->payload);
      else envelope_.append(body_, e);
      body_.push_back('\n');
      if (body_.size() > max && n > 0) {
        body_.resize_down(before);
        break;
      }
      ++n;
    }
    id_ = key_slash_ + std::to_string(batch.front().seq) + "-" + std::to_string(batch[n - 1].seq);
    o = publish_sync(Publication{body_.view(), id_.c_str()}, error);
    if (body_.capacity() > (size_t(1) << 20)) body_.release();  // a burst's big body is not kept
    return o == Outcome::Delivered ? n : 0;
  }
  // One entry as JetStream gets it: the body, and its id (rule key / seq), by
  // which the stream drops a retry's duplicate within its window. Both are
  // views of the target's reused buffers (body_, id_): valid until the next.
  struct Publication {
    std::string_view body;
    const char* id;
    jsPubOptions options() const {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MsgId = id;
      po.MaxWait = 5000;
      return po;
    }
  };
  Publication publication(const Entry& e) {
    body_.clear();
    if (rule_.type == "status") body_.append(e.message->payload);
    else envelope_.append(body_, e);
    id_.assign(key_slash_).append(id_seq_.of(e.seq));  // consecutive seqs: digits carried in place
    return {body_.view(), id_.c_str()};
  }
  // One publish, waiting for the stream's ack.
  Outcome publish_sync(const Publication& p, std::string& error) {
    jsPubOptions po = p.options();
    jsPubAck* pa = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    natsStatus s = js_Publish(&pa, js_, subject_.c_str(), p.body.data(), static_cast<int>(p.body.size()), &po, &err);
    if (pa) jsPubAck_Destroy(pa);
    if (s == NATS_OK) return Outcome::Delivered;
    error = "NATS JetStream publish to " + subject_ + ": " + text(s) + (err ? " (" + std::to_string(err) + ")" : "");
    return Outcome::Retry;  // no stream for the subject, or NATS down: retried
  }

  bool open(std::string& error) {
    close();
    nc_ = connect(url_, error);
    if (!nc_) return false;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 1024;  // above max_batch: a batch never stalls
    jo.PublishAsync.ErrHandler = &on_async_error;
    jo.PublishAsync.ErrHandlerClosure = this;
    natsStatus s = natsConnection_JetStream(&js_, nc_, &jo);
    if (s != NATS_OK) {
      error = "NATS JetStream: " + text(s);
      close();
      return false;
    }
    if (!stream_.empty())
      if (std::string why = ensure_stream(js_, stream_, subject_); !why.empty())
        log::warn("rules: {}: stream {} not created: {}", rule_.name, stream_, why);
    return true;
  }
  // A publish refused or not acknowledged in time (libnats' thread).
  static void on_async_error(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<NatsTarget*>(closure);
    self->failed_.fetch_add(1);
    std::lock_guard lk(self->err_mu_);
    self->async_error_ = pae->ErrText ? pae->ErrText : text(pae->Err);
  }
  // Forgets what is still waiting for an ack (the batch is retried whole).
  void drain() {
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
  }
  void close() {
    if (js_) jsCtx_Destroy(js_);
    js_ = nullptr;
    if (nc_) natsConnection_Destroy(nc_);
    nc_ = nullptr;
  }

  mq::Rule rule_;
  MessageEnvelope envelope_{rule_};
  const std::string key_slash_ = rule_.key() + "/";  // the start of every Nats-Msg-Id
  common::OutBuffer body_;                            // reused for every publish
  std::string id_;
  common::DecimalCounter id_seq_;
  std::string url_, subject_, stream_;
  int linger_ms_;
  int lines_;  // Batch: entries per JetStream message (0, 1: one each)
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::atomic<int> failed_{0};
  std::mutex err_mu_;
  std::string async_error_;
};

// Inflow over core NATS (no Stream): a subscription, at most once (what NATS
// gets while Sluice is down is not seen).
class NatsInflow final : public InflowSource {
 public:
  NatsInflow(const mq::Rule& rule, const TargetEnv& env)
      : instance_(rule.instance_id), topic_(rule.source_topic), env_(env),
        lane_(static_cast<unsigned>(std::hash<std::string>{}(rule.key()))) {
    std::string error;
    nc_ = connect(config_field(rule, "Url"), error, true);
    if (!nc_) throw std::runtime_error(error);
    natsStatus s = natsConnection_Subscribe(&sub_, nc_, config_field(rule, "Subject").c_str(), &on_msg, this);
    if (s != NATS_OK) {
      natsConnection_Destroy(nc_);
      throw std::runtime_error("NATS subscribe: " + text(s));
    }
  }
  ~NatsInflow() override {
    if (sub_) {
      natsSubscription_Unsubscribe(sub_);
      natsSubscription_Destroy(sub_);
    }
    if (nc_) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(nc_);
    }
  }
  uint64_t received() const override { return received_.load(); }
  std::string last_error() const override {
    std::lock_guard lk(mu_);
    return error_;
  }

 private:
  static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<NatsInflow*>(closure);
    auto m = std::make_shared<broker::Message>();
    m->topic = self->topic_;
    m->payload.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    m->qos = 1;
    natsMsg_Destroy(msg);
    self->received_.fetch_add(1);
    if (!self->env_.publish || !self->env_.publish(self->instance_, std::move(m), self->lane_)) {
      std::lock_guard lk(self->mu_);
      self->error_ = "the broker did not take a message for " + self->instance_;
    }
  }

  std::string instance_, topic_;
  TargetEnv env_;
  unsigned lane_;
  natsConnection* nc_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::atomic<uint64_t> received_{0};
  mutable std::mutex mu_;
  std::string error_;
};

// Inflow over JetStream (TargetConfig has a Stream): a durable pull consumer
// named after the rule ("sluice-" + 16 hex of its key), acknowledgements
// explicit. A fetched batch is published into the instance, in order on one
// loop; each message is acknowledged only once the broker has routed it and
// whatever that left in the store (a persistent session's copy) is durable,
// as a device's PUBACK would be. Sluice stopped, restarted or killed -9:
// JetStream redelivers what was not acknowledged (at least once), and the
// consumer's position is on the NATS server, so nothing is skipped.
class JetStreamInflow final : public InflowSource {
 public:
  JetStreamInflow(const mq::Rule& rule, const TargetEnv& env)
      : instance_(rule.instance_id), topic_(rule.source_topic), subject_(config_field(rule, "Subject")),
        stream_(config_field(rule, "Stream")), url_(config_field(rule, "Url")), env_(env),
        lane_(static_cast<unsigned>(std::hash<std::string>{}(rule.key()))),
        durable_("sluice-" + common::hex(common::hmac_sha256("sluice-inflow", rule.key())).substr(0, 16)),
        state_(std::make_shared<Routed>()) {
    if (!env_.publish_routed) throw std::runtime_error("no way to publish with a completion");
    thread_ = std::thread([this] { run(); });
  }
  ~JetStreamInflow() override {
    stop_.store(true);
    state_->cv.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  uint64_t received() const override { return received_.load(); }
  std::string last_error() const override {
    std::lock_guard lk(mu_);
    return error_;
  }

 private:
  // Shared with the loops' completions (which may run after this object is gone).
  struct Routed {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    uint64_t ticket = 0;  // the newest store ticket the batch's publishes made
  };

  void fail(const std::string& e) {
    std::lock_guard lk(mu_);
    if (error_ != e) log::warn("rules: inflow {}: {}", durable_, e);
    error_ = e;
  }
  void pause(int ms) {
    std::unique_lock lk(state_->mu);
    state_->cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return stop_.load(); });
  }

  bool subscribe() {
    std::string error;
    if (!nc_) nc_ = connect(url_, error, true);
    if (!nc_) return fail(error), false;
    if (!js_ && natsConnection_JetStream(&js_, nc_, nullptr) != NATS_OK) return fail("NATS JetStream context"), false;
    if (std::string why = ensure_stream(js_, stream_, subject_); !why.empty())
      return fail("NATS stream " + stream_ + ": " + why), false;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream_.c_str();
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = int64_t(30) * 1000 * 1000 * 1000;  // ns: unacknowledged this long is redelivered
    so.Config.DeliverPolicy = js_DeliverNew;                // a new rule starts with what comes next
    so.Config.MaxAckPending = 1024;
    jsErrCode err = static_cast<jsErrCode>(0);
    const natsStatus s = js_PullSubscribe(&sub_, js_, subject_.c_str(), durable_.c_str(), nullptr, &so, &err);
    if (s != NATS_OK) return fail("NATS durable consumer " + durable_ + ": " + text(s)), false;
    return true;
  }

  void run() {
    while (!stop_.load()) {
      if (!sub_ && !subscribe()) {
        pause(1000);
        continue;
      }
      natsMsgList list{};
      jsErrCode err = static_cast<jsErrCode>(0);
      natsStatus s = natsSubscription_Fetch(&list, sub_, 64, 500, &err);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) {
        fail("NATS fetch: " + text(s));
        pause(250);
        continue;
      }
      if (!deliver(list)) {
        natsMsgList_Destroy(&list);  // not acknowledged: JetStream redelivers them
        continue;
      }
      for (int i = 0; i < list.Count; ++i) natsMsg_Ack(list.Msgs[i], nullptr);
      natsMsgList_Destroy(&list);
    }
    if (sub_) natsSubscription_Destroy(sub_);  // the durable consumer stays on the server
    if (js_) jsCtx_Destroy(js_);
    if (nc_) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(nc_);
    }
  }

  // Publishes the batch in order; true once all of it is routed and durable.
  bool deliver(const natsMsgList& list) {
    auto st = state_;
    {
      std::lock_guard lk(st->mu);
      st->pending = 0;
      st->ticket = 0;
    }
    for (int i = 0; i < list.Count; ++i) {
      auto m = std::make_shared<broker::Message>();
      m->topic = topic_;
      m->payload.assign(natsMsg_GetData(list.Msgs[i]), static_cast<size_t>(natsMsg_GetDataLength(list.Msgs[i])));
      m->qos = 1;
      {
        std::lock_guard lk(st->mu);
        ++st->pending;
      }
      // Not taken (the loops are not up yet, or the instance is gone): the rest waits too.
      while (!env_.publish_routed(instance_, m, lane_, [st](uint64_t ticket) {
        std::lock_guard lk(st->mu);
        st->ticket = std::max(st->ticket, ticket);
        if (--st->pending == 0) st->cv.notify_all();
      })) {
        fail("the broker did not take a message for " + instance_);
        pause(200);
        if (stop_.load()) return false;
      }
      received_.fetch_add(1);
    }
    uint64_t ticket;
    {
      std::unique_lock lk(st->mu);
      // The loops run what they were given; a stop (loops going away) ends the wait.
      while (!st->cv.wait_for(lk, std::chrono::milliseconds(100), [&] { return st->pending == 0; }))
        if (stop_.load()) return false;
      ticket = st->ticket;
    }
    // What the publishes left in the store, durable (the store reports within a commit).
    while (ticket != 0 && env_.durable && env_.durable() < ticket) {
      if (stop_.load()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  std::string instance_, topic_, subject_, stream_, url_;
  TargetEnv env_;
  unsigned lane_;
  std::string durable_;
  std::shared_ptr<Routed> state_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  mutable std::mutex mu_;
  std::string error_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Target> make_nats_target(const mq::Rule& rule) { return std::make_unique<NatsTarget>(rule); }

std::unique_ptr<InflowSource> make_inflow_source(const mq::Rule& rule, const TargetEnv& env) {
  if (!config_field(rule, "Stream").empty()) return std::make_unique<JetStreamInflow>(rule, env);
  return std::make_unique<NatsInflow>(rule, env);
}

}  // namespace sluice::rules
