// NATS: the nats target (outflow and status rules publish to a JetStream
// subject and wait for the stream's acknowledgement: at least once; the
// Nats-Msg-Id "<rule key>/<seq>" lets JetStream drop a retry's duplicate), and
// the inflow source (a core NATS subscription; each message is published into
// the instance on the rule's SourceTopic at QoS 1).
//
// TargetConfig: {"Url": "nats://host:4222", "Subject": "a.b", "Stream": "NAME"};
// with Stream, the stream is created for the subject if it does not exist.
#include <nats/nats.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "common/log.hpp"
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
natsConnection* connect(const std::string& url, std::string& error, bool background = false) {
  open_nats();
  natsOptions* o = nullptr;
  natsOptions_Create(&o);
  natsOptions_SetURL(o, url.c_str());
  natsOptions_SetName(o, "sluice-rules");
  natsOptions_SetMaxReconnect(o, -1);
  natsOptions_SetReconnectWait(o, 250);
  natsOptions_SetTimeout(o, 2000);
  if (background) natsOptions_SetRetryOnFailedConnect(o, true, nullptr, nullptr);
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK && !(background && s == NATS_NOT_YET_CONNECTED)) {
    error = "cannot reach NATS at " + url + ": " + text(s);
    return nullptr;
  }
  return nc;
}

class NatsTarget final : public Target {
 public:
  explicit NatsTarget(const mq::Rule& rule)
      : rule_(rule), url_(config_field(rule, "Url")), subject_(config_field(rule, "Subject")),
        stream_(config_field(rule, "Stream")) {}
  ~NatsTarget() override { close(); }

  Outcome deliver(const Entry& e, std::string& error) override {
    if (!js_ && !open(error)) return Outcome::Retry;
    const std::string body = rule_.type == "status" ? e.message->payload : message_json(rule_, e);
    const std::string id = rule_.key() + "/" + std::to_string(e.seq);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = 5000;
    jsPubAck* pa = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    natsStatus s = js_Publish(&pa, js_, subject_.c_str(), body.data(), static_cast<int>(body.size()), &po, &err);
    if (pa) jsPubAck_Destroy(pa);
    if (s == NATS_OK) return Outcome::Delivered;
    error = "NATS JetStream publish to " + subject_ + ": " + text(s) + (err ? " (" + std::to_string(err) + ")" : "");
    return Outcome::Retry;  // no stream for the subject, or NATS down: retried
  }

 private:
  bool open(std::string& error) {
    close();
    nc_ = connect(url_, error);
    if (!nc_) return false;
    natsStatus s = natsConnection_JetStream(&js_, nc_, nullptr);
    if (s != NATS_OK) {
      error = "NATS JetStream: " + text(s);
      close();
      return false;
    }
    if (!stream_.empty()) {
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      cfg.Name = stream_.c_str();
      const char* subjects[] = {subject_.c_str()};
      cfg.Subjects = subjects;
      cfg.SubjectsLen = 1;
      cfg.Storage = js_FileStorage;
      jsStreamInfo* si = nullptr;
      jsErrCode err = static_cast<jsErrCode>(0);
      s = js_AddStream(&si, js_, &cfg, nullptr, &err);
      if (si) jsStreamInfo_Destroy(si);
      if (s != NATS_OK && err != JSStreamNameExistErr)
        log::warn("rules: {}: stream {} not created: {}", rule_.name, stream_, text(s));
    }
    return true;
  }
  void close() {
    if (js_) jsCtx_Destroy(js_);
    js_ = nullptr;
    if (nc_) natsConnection_Destroy(nc_);
    nc_ = nullptr;
  }

  mq::Rule rule_;
  std::string url_, subject_, stream_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

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

}  // namespace

std::unique_ptr<Target> make_nats_target(const mq::Rule& rule) { return std::make_unique<NatsTarget>(rule); }

std::unique_ptr<InflowSource> make_inflow_source(const mq::Rule& rule, const TargetEnv& env) {
  return std::make_unique<NatsInflow>(rule, env);
}

}  // namespace sluice::rules
