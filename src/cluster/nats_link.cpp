#include "cluster/nats_link.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "common/log.hpp"

namespace sluice::cluster {

namespace {

std::string status_text(natsStatus s) { return natsStatus_GetText(s); }

// libnats keeps process-wide state (its delivery pool, timers): opened once.
void open_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (natsStatus s = nats_Open(-1); s != NATS_OK) throw std::runtime_error("libnats: " + status_text(s));
    // Subscriptions share a small pool of delivery threads instead of one
    // thread each (a node subscribes once per distinct filter).
    nats_SetMessageDeliveryPoolSize(2);
  });
}

NatsMessage to_message(natsMsg* m) {
  NatsMessage out;
  out.subject = natsMsg_GetSubject(m);
  if (const char* d = natsMsg_GetData(m)) out.data.assign(d, static_cast<size_t>(natsMsg_GetDataLength(m)));
  if (const char* r = natsMsg_GetReply(m)) out.reply = r;
  const char** keys = nullptr;
  int n = 0;
  if (natsMsgHeader_Keys(m, &keys, &n) == NATS_OK) {
    for (int i = 0; i < n; ++i) {
      const char* v = nullptr;
      if (natsMsgHeader_Get(m, keys[i], &v) == NATS_OK && v) out.headers[keys[i]] = v;
    }
    free(keys);
  }
  // Only a JetStream message has metadata (in its reply subject); asking a core
  // message for it costs libnats an error text formatted per message.
  jsMsgMetaData* meta = nullptr;
  if (out.reply.starts_with("$JS.ACK.") && natsMsg_GetMetaData(&meta, m) == NATS_OK && meta) {
    out.stream_seq = meta->Sequence.Stream;
    out.pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
  }
  return out;
}

natsMsg* make_message(const std::string& subject, std::string_view data,
                      const std::map<std::string, std::string>& headers) {
  natsMsg* m = nullptr;
  if (natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) != NATS_OK)
    return nullptr;
  // An empty value makes a header block the receiving client cannot parse (all
  // headers then read as absent): it is left out, and reads back as "" anyway.
  for (const auto& [k, v] : headers)
    if (!v.empty()) natsMsgHeader_Set(m, k.c_str(), v.c_str());
  return m;
}

}  // namespace

struct NatsLink::Impl {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::atomic<bool> closing{false};
  // Set by the closed callback, the library's last call about the connection:
  // the destructor waits for it, since natsConnection_Close returns before
  // the disconnected and closed callbacks have run (on the library's thread,
  // into this object).
  std::mutex closed_mu;
  std::condition_variable closed_cv;
  bool closed = false;

  // A subscription's handler lives until libnats says the subscription is
  // complete (its last callback has returned).
  struct Sub {
    Handler handler;
    natsSubscription* sub = nullptr;
  };
  std::mutex mu;
  uint64_t next_id = 1;
  std::map<uint64_t, Sub*> subs;
  std::vector<std::function<void()>> on_reconnected;

  // JetStream publishes waiting for their acknowledgement, by the message
  // itself: libnats hands the acknowledgement handler the message it was given,
  // alive until that handler destroys it, so the pointer names one publish at a
  // time (a header carrying our own key cost a header block per message).
  std::mutex pub_mu;
  std::unordered_map<const natsMsg*, PubDone> pending;

  std::mutex kv_mu;
  std::map<std::string, kvStore*> kvs;
  struct Watch {
    kvWatcher* w = nullptr;
    std::thread t;
  };
  std::map<uint64_t, std::unique_ptr<Watch>> watches;
  uint64_t next_watch = 0;

  static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
    auto* s = static_cast<Sub*>(closure);
    NatsMessage msg = to_message(m);
    natsMsg_Destroy(m);
    s->handler(std::move(msg));
  }
  static void on_complete(void* closure) { delete static_cast<Sub*>(closure); }

  static void on_pub_ack(jsCtx*, natsMsg* m, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    PubDone done;
    {
      std::lock_guard lk(self->pub_mu);
      auto it = self->pending.find(m);
      if (it != self->pending.end()) {
        done = std::move(it->second);
        self->pending.erase(it);
      }
    }
    natsMsg_Destroy(m);
    if (!done) return;
    if (pa && !pae)
      done(true, pa->Sequence);
    else
      done(false, 0);
  }

  uint64_t add_sub(Handler h, const std::function<natsStatus(natsSubscription**, Sub*)>& make) {
    auto* s = new Sub{std::move(h), nullptr};
    natsSubscription* sub = nullptr;
    if (natsStatus st = make(&sub, s); st != NATS_OK) {
      delete s;
      throw std::runtime_error("NATS subscribe: " + status_text(st));
    }
    s->sub = sub;
    natsSubscription_SetOnCompleteCB(sub, &Impl::on_complete, s);
    std::lock_guard lk(mu);
    const uint64_t id = next_id++;
    subs[id] = s;
    return id;
  }

  kvStore* kv(const std::string& bucket) {
    std::lock_guard lk(kv_mu);
    auto it = kvs.find(bucket);
    return it == kvs.end() ? nullptr : it->second;
  }
};

NatsLink::NatsLink(NatsOptions opts) : opts_(std::move(opts)), impl_(std::make_unique<Impl>()) {
  open_library();
  natsOptions* o = nullptr;
  natsOptions_Create(&o);
  std::vector<const char*> urls;
  for (const auto& u : opts_.urls) urls.push_back(u.c_str());
  natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size()));
  natsOptions_SetName(o, opts_.name.c_str());
  natsOptions_SetNoEcho(o, true);  // a node never receives its own core publishes
  natsOptions_SetMaxReconnect(o, -1);
  natsOptions_SetReconnectWait(o, 250);
  natsOptions_SetTimeout(o, opts_.connect_timeout_ms);
  natsOptions_UseGlobalMessageDelivery(o, true);
  natsOptions_SetDisconnectedCB(
      o,
      [](natsConnection*, void* c) {
        auto* self = static_cast<NatsLink*>(c);
        self->connected_.store(false, std::memory_order_release);
        if (!self->impl_->closing.load()) log::warn("cluster: lost NATS; reconnecting");
      },
      this);
  natsOptions_SetReconnectedCB(
      o,
      [](natsConnection*, void* c) {
        auto* self = static_cast<NatsLink*>(c);
        self->connected_.store(true, std::memory_order_release);
        log::info("cluster: NATS reconnected");
        std::vector<std::function<void()>> fs;
        {
          std::lock_guard lk(self->impl_->mu);
          fs = self->impl_->on_reconnected;
        }
        for (auto& f : fs) f();
      },
      this);
  natsOptions_SetClosedCB(
      o,
      [](natsConnection*, void* c) {
        auto* impl = static_cast<Impl*>(c);
        std::lock_guard lk(impl->closed_mu);
        impl->closed = true;
        impl->closed_cv.notify_all();
      },
      impl_.get());
  natsStatus s = natsConnection_Connect(&impl_->nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    std::string all;
    for (const auto& u : opts_.urls) all += (all.empty() ? "" : ", ") + u;
    throw std::runtime_error("cannot reach NATS at " + all + ": " + status_text(s));
  }
  connected_.store(true, std::memory_order_release);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.AckHandler = &Impl::on_pub_ack;
  jo.PublishAsync.AckHandlerClosure = impl_.get();
  jo.PublishAsync.MaxPending = 65536;
  jo.Wait = 5000;
  if ((s = natsConnection_JetStream(&impl_->js, impl_->nc, &jo)) != NATS_OK)
    throw std::runtime_error("NATS JetStream: " + status_text(s));
}

NatsLink::~NatsLink() {
  impl_->closing.store(true);
  std::map<uint64_t, std::unique_ptr<Impl::Watch>> watches;
  {
    std::lock_guard lk(impl_->kv_mu);
    watches.swap(impl_->watches);
  }
  for (auto& [id, w] : watches) {
    kvWatcher_Stop(w->w);
    if (w->t.joinable()) w->t.join();
    kvWatcher_Destroy(w->w);
  }
  // The library frees each Sub (on_complete, on its delivery thread) as soon as the
  // unsubscribe completes, so the subscription handles are taken out first.
  std::vector<natsSubscription*> subs;
  {
    std::lock_guard lk(impl_->mu);
    for (auto& [id, s] : impl_->subs) subs.push_back(s->sub);
    impl_->subs.clear();
  }
  for (auto* sub : subs) natsSubscription_Unsubscribe(sub);
  if (impl_->nc) {
    natsConnection_Close(impl_->nc);
    std::unique_lock lk(impl_->closed_mu);
    impl_->closed_cv.wait_for(lk, std::chrono::seconds(5), [this] { return impl_->closed; });
  }
  for (auto* sub : subs) natsSubscription_Destroy(sub);
  for (auto& [b, kv] : impl_->kvs) kvStore_Destroy(kv);
  if (impl_->js) jsCtx_Destroy(impl_->js);
  if (impl_->nc) natsConnection_Destroy(impl_->nc);
}

void NatsLink::on_reconnected(std::function<void()> f) {
  std::lock_guard lk(impl_->mu);
  impl_->on_reconnected.push_back(std::move(f));
}

uint64_t NatsLink::subscribe(const std::string& subject, const std::string& queue, Handler h) {
  return impl_->add_sub(std::move(h), [&](natsSubscription** sub, Impl::Sub* s) {
    if (queue.empty()) return natsConnection_Subscribe(sub, impl_->nc, subject.c_str(), &Impl::on_msg, s);
    return natsConnection_QueueSubscribe(sub, impl_->nc, subject.c_str(), queue.c_str(), &Impl::on_msg, s);
  });
}

std::optional<std::pair<uint64_t, uint64_t>> NatsLink::js_progress(uint64_t id) {
  natsSubscription* sub = nullptr;
  {
    std::lock_guard lk(impl_->mu);
    auto it = impl_->subs.find(id);
    if (it == impl_->subs.end()) return std::nullopt;
    sub = it->second->sub;
  }
  jsConsumerInfo* ci = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  if (natsSubscription_GetConsumerInfo(&ci, sub, nullptr, &err) != NATS_OK || !ci) return std::nullopt;
  std::pair<uint64_t, uint64_t> r{ci->Delivered.Consumer, ci->NumPending};
  jsConsumerInfo_Destroy(ci);
  return r;
}

void NatsLink::unsubscribe(uint64_t id) {
  Impl::Sub* s = nullptr;
  {
    std::lock_guard lk(impl_->mu);
    auto it = impl_->subs.find(id);
    if (it == impl_->subs.end()) return;
    s = it->second;
    impl_->subs.erase(it);
  }
  natsSubscription* sub = s->sub;
  natsSubscription_Unsubscribe(sub);  // on_complete frees the handler once its last callback returned
  natsSubscription_Destroy(sub);
}

void NatsLink::publish(const std::string& subject, std::string_view data,
                       const std::map<std::string, std::string>& headers) {
  if (headers.empty()) {  // no message object to build and free
    natsConnection_Publish(impl_->nc, subject.c_str(), data.data(), static_cast<int>(data.size()));
    return;
  }
  natsMsg* m = make_message(subject, data, headers);
  if (!m) return;
  natsConnection_PublishMsg(impl_->nc, m);
  natsMsg_Destroy(m);
}

std::optional<std::string> NatsLink::request(const std::string& subject, std::string_view data, int64_t timeout_ms) {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, impl_->nc, subject.c_str(), data.data(), static_cast<int>(data.size()),
                             timeout_ms) != NATS_OK)
    return std::nullopt;
  std::string out;
  if (const char* d = natsMsg_GetData(reply)) out.assign(d, static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

void NatsLink::gather(const std::string& subject, std::string_view data, int64_t timeout_ms,
                      const std::function<bool(std::string&& answer)>& take) {
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) return;
  natsSubscription* sub = nullptr;
  // The inbox's SUB goes out before the request on the same connection: the
  // server has it before any answer.
  if (natsConnection_SubscribeSync(&sub, impl_->nc, inbox) == NATS_OK &&
      natsConnection_PublishRequest(impl_->nc, subject.c_str(), inbox, data.data(), static_cast<int>(data.size())) ==
          NATS_OK) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      const int64_t left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      natsMsg* m = nullptr;
      if (left <= 0 || natsSubscription_NextMsg(&m, sub, left) != NATS_OK) break;
      const char* d = natsMsg_GetData(m);
      std::string answer(d ? d : "", d ? static_cast<size_t>(natsMsg_GetDataLength(m)) : 0);
      natsMsg_Destroy(m);
      if (take(std::move(answer))) break;
    }
  }
  if (sub) {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
  natsInbox_Destroy(inbox);
}

void NatsLink::respond(const std::string& reply, std::string_view data) {
  natsConnection_Publish(impl_->nc, reply.c_str(), data.data(), static_cast<int>(data.size()));
}

void NatsLink::ensure_stream(const std::string& name, const std::vector<std::string>& subjects, int64_t max_age_ms,
                             int64_t max_bytes, int64_t per_subject) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  std::vector<const char*> subs;
  for (const auto& s : subjects) subs.push_back(s.c_str());
  cfg.Subjects = subs.data();
  cfg.SubjectsLen = static_cast<int>(subs.size());
  cfg.Storage = js_FileStorage;
  cfg.Replicas = opts_.replicas;
  cfg.MaxAge = max_age_ms * 1000000;  // nanoseconds
  cfg.MaxBytes = max_bytes > 0 ? max_bytes : -1;
  if (per_subject > 0) cfg.MaxMsgsPerSubject = per_subject;
  // Resends within 2 minutes are recognised (the window may not pass the stream's age).
  cfg.Duplicates = std::min<int64_t>(120LL * 1000000000, cfg.MaxAge);
  jsErrCode err = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_AddStream(&si, impl_->js, &cfg, nullptr, &err);
  if (s != NATS_OK && err == JSStreamNameExistErr) s = js_UpdateStream(&si, impl_->js, &cfg, nullptr, &err);
  if (si) jsStreamInfo_Destroy(si);
  if (s != NATS_OK)
    throw std::runtime_error("JetStream stream " + name + ": " + status_text(s) + " (error " +
                             std::to_string(static_cast<int>(err)) + ")");
}

namespace {
constexpr int64_t kPubAckWaitMs = 2000;
constexpr int64_t kFollowHeartbeatNs = 1'000'000'000;
}  // namespace

void NatsLink::js_publish(const std::string& subject, std::string_view data,
                          const std::map<std::string, std::string>& headers, const std::string& msg_id, PubDone done) {
  natsMsg* m = make_message(subject, data, headers);
  if (!m) return done(false, 0);
  const natsMsg* key = m;  // before the call: the acknowledgement may come first
  {
    std::lock_guard lk(impl_->pub_mu);
    impl_->pending.emplace(key, std::move(done));
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (!msg_id.empty()) po.MsgId = msg_id.c_str();
  // An acknowledgement lost with a nats-server that died (the message may or
  // may not be stored) would otherwise be waited for forever, and the MQTT
  // publisher with it: after kPubAckWaitMs `done(false)` runs and the caller
  // sends it again (with its msg_id, JetStream drops a stored duplicate).
  po.MaxWait = kPubAckWaitMs;
  if (natsStatus s = js_PublishMsgAsync(impl_->js, &m, &po); s != NATS_OK) {
    if (m) natsMsg_Destroy(m);
    PubDone d;
    {
      std::lock_guard lk(impl_->pub_mu);
      auto it = impl_->pending.find(key);
      if (it != impl_->pending.end()) {
        d = std::move(it->second);
        impl_->pending.erase(it);
      }
    }
    if (d) d(false, 0);
  }
}

uint64_t NatsLink::js_follow(const std::string& stream, const std::string& filter, uint64_t start_seq, Handler h) {
  return impl_->add_sub(std::move(h), [&](natsSubscription** sub, Impl::Sub* s) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Ordered = true;
    // The server's idle heartbeat, by which libnats notices that the consumer
    // is gone (its server died) and makes it again from the last sequence
    // seen: libnats's default for an ordered consumer is 5 s, which left
    // delivery stalled 16-19 s after a nats-server kill; 1 s is cheap
    // (one small message a second per idle node).
    so.Config.Heartbeat = kFollowHeartbeatNs;
    if (start_seq > 0) {
      so.Config.DeliverPolicy = js_DeliverByStartSequence;
      so.Config.OptStartSeq = start_seq;
    } else {
      so.Config.DeliverPolicy = js_DeliverNew;
    }
    jsErrCode err = static_cast<jsErrCode>(0);
    return js_Subscribe(sub, impl_->js, filter.c_str(), &Impl::on_msg, s, nullptr, &so, &err);
  });
}

std::optional<uint64_t> NatsLink::js_last_seq(const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  if (js_GetStreamInfo(&si, impl_->js, stream.c_str(), nullptr, &err) != NATS_OK || !si) return std::nullopt;
  const uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  return last;
}

void NatsLink::ensure_kv(const std::string& bucket) {
  if (impl_->kv(bucket)) return;
  kvStore* kv = nullptr;
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = bucket.c_str();
  cfg.History = 1;
  cfg.Replicas = opts_.replicas;
  cfg.StorageType = js_FileStorage;
  natsStatus s = js_CreateKeyValue(&kv, impl_->js, &cfg);
  if (s != NATS_OK) s = js_KeyValue(&kv, impl_->js, bucket.c_str());
  if (s != NATS_OK) throw std::runtime_error("JetStream bucket " + bucket + ": " + status_text(s));
  std::lock_guard lk(impl_->kv_mu);
  if (!impl_->kvs.emplace(bucket, kv).second) kvStore_Destroy(kv);
}

void NatsLink::kv_write_async(const std::string& bucket, const std::string& key, std::string_view value,
                              std::function<void(bool)> done) {
  std::map<std::string, std::string> headers;
  if (value.empty()) headers["KV-Operation"] = "DEL";  // what kvStore_Delete writes
  js_publish("$KV." + bucket + "." + key, value, headers, "", [done = std::move(done)](bool ok, uint64_t) {
    if (done) done(ok);
  });
}

bool NatsLink::kv_update(const std::string& bucket, const std::string& key, std::string_view value,
                         uint64_t last_revision, uint64_t* new_revision) {
  kvStore* kv = impl_->kv(bucket);
  if (!kv) return false;
  uint64_t rev = 0;
  // Revision 0: the key must not exist yet (or was deleted).
  const natsStatus s =
      last_revision == 0
          ? kvStore_Create(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()))
          : kvStore_Update(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()), last_revision);
  if (s == NATS_OK && new_revision) *new_revision = rev;
  return s == NATS_OK;
}

bool NatsLink::kv_delete(const std::string& bucket, const std::string& key) {
  kvStore* kv = impl_->kv(bucket);
  return kv && kvStore_Delete(kv, key.c_str()) == NATS_OK;
}

std::vector<std::string> NatsLink::kv_keys(const std::string& bucket) {
  std::vector<std::string> out;
  kvStore* kv = impl_->kv(bucket);
  if (!kv) return out;
  kvKeysList list{};
  if (kvStore_Keys(&list, kv, nullptr) != NATS_OK) return out;  // NATS_NOT_FOUND: none
  for (int i = 0; i < list.Count; ++i) out.emplace_back(list.Keys[i]);
  kvKeysList_Destroy(&list);
  return out;
}

uint64_t NatsLink::kv_watch(const std::string& bucket, Handler h) {
  kvStore* kv = impl_->kv(bucket);
  if (!kv) throw std::runtime_error("JetStream bucket " + bucket + " not open");
  auto w = std::make_unique<Impl::Watch>();
  if (natsStatus s = kvStore_WatchAll(&w->w, kv, nullptr); s != NATS_OK)
    throw std::runtime_error("JetStream bucket " + bucket + " watch: " + status_text(s));
  kvWatcher* watcher = w->w;
  w->t = std::thread([watcher, h = std::move(h)] {
    while (true) {
      kvEntry* e = nullptr;
      natsStatus s = kvWatcher_Next(&e, watcher, 1000);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) return;  // stopped
      if (!e) continue;          // the end of the initial values
      NatsMessage m;
      m.subject = kvEntry_Key(e);
      const kvOperation op = kvEntry_Operation(e);
      if (op == kvOp_Put) {
        if (const void* v = kvEntry_Value(e)) m.data.assign(static_cast<const char*>(v), static_cast<size_t>(kvEntry_ValueLen(e)));
      } else {
        m.headers["op"] = "del";
      }
      m.stream_seq = kvEntry_Revision(e);
      kvEntry_Destroy(e);
      h(std::move(m));
    }
  });
  std::lock_guard lk(impl_->kv_mu);
  const uint64_t id = ++impl_->next_watch;
  impl_->watches[id] = std::move(w);
  return id;
}

void NatsLink::unwatch(uint64_t id) {
  std::unique_ptr<Impl::Watch> w;
  {
    std::lock_guard lk(impl_->kv_mu);
    auto it = impl_->watches.find(id);
    if (it == impl_->watches.end()) return;
    w = std::move(it->second);
    impl_->watches.erase(it);
  }
  kvWatcher_Stop(w->w);
  if (w->t.joinable()) w->t.join();
  kvWatcher_Destroy(w->w);
}

}  // namespace sluice::cluster
