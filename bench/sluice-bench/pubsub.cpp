#include "pubsub.hpp"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "event_loop.hpp"
#include "histogram.hpp"
#include "payload.hpp"
#include "proc_stats.hpp"
#include "report.hpp"
#include "seq_tracker.hpp"

namespace sbench {
namespace mq = sluice::mqtt;

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// A closed-loop publisher that sees no delivery progress for this long writes
// off its outstanding messages (QoS 0 may be dropped) instead of stalling forever.
constexpr int64_t kStallNs = 200 * kNsPerMs;
// Past this much unsent output a publisher waits: the broker is not reading.
constexpr size_t kMaxPendingOut = 1 << 20;

// Who publishes where and who receives what.
struct Plan {
  int npubs = 0, nsubs = 0;
  int fan = 1;  // subscribers that receive each publish
  bool pairs = false;

  std::string topic(const std::string& prefix, int pub) const {
    // fanin and fanout share one topic; pairs get one each.
    return pairs ? prefix + "/pair/" + std::to_string(pub) : prefix + "/t";
  }
  // Range of publisher ids subscriber s receives from.
  int first_pub(int s) const { return pairs ? s : 0; }
  int pubs_of(int) const { return pairs ? 1 : npubs; }
};

struct Shared {
  const Options& opt;
  Plan plan;
  mq::Version version;
  std::unique_ptr<std::atomic<uint64_t>[]> delivered;  // unique deliveries per publisher
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  std::atomic<int64_t> start_ns{0};  // 0 until every connection is ready
  std::atomic<int64_t> window_start{kNever}, window_end{kNever};
  std::atomic<bool> stop_publishing{false};
  std::atomic<bool> finishing{false};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> sent{0};
  std::vector<EventLoop*> loops;
  std::mutex mu;
  std::string first_error;

  Shared(const Options& o, Plan p)
      : opt(o), plan(p), version(o.protocol == 5 ? mq::Version::V5 : mq::Version::V3_1_1),
        delivered(new std::atomic<uint64_t>[size_t(p.npubs)]) {
    for (int i = 0; i < p.npubs; ++i) delivered[size_t(i)].store(0);
  }
  void error(const std::string& e) {
    std::lock_guard lk(mu);
    if (first_error.empty()) first_error = e;
  }
  uint64_t total_delivered() const {
    uint64_t t = 0;
    for (int i = 0; i < plan.npubs; ++i) t += delivered[size_t(i)].load(std::memory_order_relaxed);
    return t;
  }
};

class Worker : public ConnectionHandler {
 public:
  Worker(Shared& s, int index) : s_(s), index_(index) {}

  void add_pub(int id);
  void add_sub(int id);
  void run();

  EventLoop loop;
  Histogram hist;
  uint64_t window_delivered = 0, window_sent = 0, dup = 0, stray = 0, stalls = 0, rejected = 0;

 private:
  struct Pub {
    std::unique_ptr<Connection> conn;
    int id = 0;
    std::string topic, payload;
    uint64_t seq = 0;  // next sequence number = publishes sent
    uint64_t quota = std::numeric_limits<uint64_t>::max();
    uint32_t inflight = 0, max_inflight = 65535;
    std::vector<uint8_t> pid_busy;
    uint16_t next_pid = 1;
    int64_t interval_ns = 0, next_due = 0;
    uint64_t written_off = 0;
    int64_t stalled_since = 0;
    bool ready = false;
  };
  struct Sub {
    std::unique_ptr<Connection> conn;
    int id = 0, first_pub = 0;
    std::vector<SeqTracker> seen;
    bool ready = false;
  };
  static constexpr uint64_t kSubTag = uint64_t(1) << 32;

  void on_open(Connection& c) override;
  void on_packet(Connection& c, mq::Packet& p) override;
  void on_close(Connection& c, const char* why) override;
  void on_pub_packet(Pub& p, mq::Packet& pkt);
  void on_sub_packet(Sub& s, mq::Packet& pkt);
  int64_t pump(Pub& p, int64_t now);
  void publish(Pub& p, int64_t now);
  void keepalive(int64_t now);
  void disconnect_all();
  bool connack_ok(Connection& c, const mq::Connack& ca);

  Shared& s_;
  int index_;
  std::vector<Pub> pubs_;
  std::vector<Sub> subs_;
  bool delivered_now_ = false;
  int64_t ws_ = kNever, we_ = kNever;  // measuring window, cached per iteration
};

void Worker::add_pub(int id) {
  Pub p;
  p.id = id;
  p.conn = std::make_unique<Connection>(*this, loop.dirty(), pubs_.size());
  p.topic = s_.plan.topic(s_.opt.topic_prefix, id);
  p.payload.assign(s_.opt.payload, 'x');
  if (s_.opt.qos > 0) p.pid_busy.assign(65536, 0);
  p.max_inflight = uint32_t(std::max(1, s_.opt.inflight));
  if (s_.opt.count) {
    uint64_t n = uint64_t(s_.plan.npubs);
    p.quota = s_.opt.count / n + (uint64_t(id) < s_.opt.count % n ? 1 : 0);
  }
  if (s_.opt.rate > 0) {
    double per_pub = s_.opt.rate / s_.plan.npubs;
    p.interval_ns = int64_t(1e9 / per_pub);
    // Stagger publishers across one interval so their sends don't coincide.
    p.next_due = p.interval_ns * id / s_.plan.npubs;
  }
  pubs_.push_back(std::move(p));
}

void Worker::add_sub(int id) {
  Sub s;
  s.id = id;
  s.conn = std::make_unique<Connection>(*this, loop.dirty(), kSubTag | subs_.size());
  s.first_pub = s_.plan.first_pub(id);
  s.seen.resize(size_t(s_.plan.pubs_of(id)));
  subs_.push_back(std::move(s));
}

void Worker::on_open(Connection& c) {
  c.parser().as_client().set_version(s_.version);  // we decode server->client packets
  mq::Connect ct;
  ct.version = s_.version;
  ct.clean_start = true;
  ct.keep_alive = s_.opt.keepalive;
  std::string id = "sb" + std::to_string(getpid()) + (c.tag() & kSubTag ? "s" : "p") +
                   std::to_string(c.tag() & 0xffffffff) + "w" + std::to_string(index_);
  ct.client_id = id;
  if (!s_.opt.username.empty()) ct.username = s_.opt.username;
  if (!s_.opt.password.empty()) ct.password = s_.opt.password;
  mq::encode(ct, c.out());
}

bool Worker::connack_ok(Connection& c, const mq::Connack& ca) {
  if (ca.reason == mq::Reason::Success) return true;
  s_.error(std::string("CONNACK refused: ") + mq::reason_name(ca.reason));
  c.close("connack refused");
  return false;
}

void Worker::on_packet(Connection& c, mq::Packet& pkt) {
  if (c.tag() & kSubTag) on_sub_packet(subs_[c.tag() & 0xffffffff], pkt);
  else on_pub_packet(pubs_[c.tag()], pkt);
}

void Worker::on_pub_packet(Pub& p, mq::Packet& pkt) {
  if (auto* ack = std::get_if<mq::Ack>(&pkt)) {
    if (uint8_t(ack->reason) >= 0x80) ++rejected;
    if (ack->type == mq::PacketType::Pubrec && uint8_t(ack->reason) < 0x80) {
      mq::Ack rel;
      rel.type = mq::PacketType::Pubrel;
      rel.packet_id = ack->packet_id;
      mq::encode(rel, s_.version, p.conn->out());
      return;
    }
    // PUBACK, PUBCOMP, or a PUBREC refusing the message: the id is free again.
    if (!p.pid_busy.empty() && p.pid_busy[ack->packet_id]) {
      p.pid_busy[ack->packet_id] = 0;
      --p.inflight;
    }
  } else if (auto* ca = std::get_if<mq::Connack>(&pkt)) {
    if (!connack_ok(*p.conn, *ca)) return;
    if (ca->props.receive_maximum) p.max_inflight = std::min<uint32_t>(p.max_inflight, *ca->props.receive_maximum);
    p.ready = true;
    s_.ready.fetch_add(1);
  } else if (auto* d = std::get_if<mq::Disconnect>(&pkt)) {
    s_.error(std::string("broker sent DISCONNECT to a publisher: ") + mq::reason_name(d->reason));
  }
}

void Worker::on_sub_packet(Sub& s, mq::Packet& pkt) {
  if (auto* pub = std::get_if<mq::Publish>(&pkt)) {
    int64_t now = now_ns();
    auto h = PayloadHeader::read(pub->payload);
    int rel = h ? int(h->publisher) - s.first_pub : -1;
    if (!h || rel < 0 || rel >= int(s.seen.size())) {
      ++stray;
    } else if (!s.seen[size_t(rel)].mark(h->seq)) {
      ++dup;
    } else {
      s_.delivered[h->publisher].fetch_add(1, std::memory_order_relaxed);
      delivered_now_ = true;
      if (now >= ws_ && now < we_) {
        ++window_delivered;
        hist.record(uint64_t(std::max<int64_t>(0, now - h->sent_ns)));
      }
    }
    if (pub->qos > 0) {
      mq::Ack ack;
      ack.type = pub->qos == 1 ? mq::PacketType::Puback : mq::PacketType::Pubrec;
      ack.packet_id = pub->packet_id;
      mq::encode(ack, s_.version, s.conn->out());
    }
  } else if (auto* ack = std::get_if<mq::Ack>(&pkt)) {
    if (ack->type == mq::PacketType::Pubrel) {
      mq::Ack comp;
      comp.type = mq::PacketType::Pubcomp;
      comp.packet_id = ack->packet_id;
      mq::encode(comp, s_.version, s.conn->out());
    }
  } else if (auto* ca = std::get_if<mq::Connack>(&pkt)) {
    if (!connack_ok(*s.conn, *ca)) return;
    mq::Subscribe sub;
    sub.packet_id = 1;
    std::string filter = s_.plan.topic(s_.opt.topic_prefix, s.first_pub);
    sub.subscriptions.push_back({filter, mq::SubscribeOptions{uint8_t(s_.opt.qos)}});
    mq::encode(sub, s_.version, s.conn->out());
  } else if (auto* sa = std::get_if<mq::SubAck>(&pkt)) {
    if (sa->reasons.empty() || uint8_t(sa->reasons[0]) >= 0x80) {
      s_.error(std::string("SUBACK refused: ") +
               (sa->reasons.empty() ? "no reason codes" : mq::reason_name(sa->reasons[0])));
      s.conn->close("suback refused");
      return;
    }
    if (uint8_t(sa->reasons[0]) < s_.opt.qos) s_.error("broker granted a lower QoS than asked");
    s.ready = true;
    s_.ready.fetch_add(1);
  } else if (auto* d = std::get_if<mq::Disconnect>(&pkt)) {
    s_.error(std::string("broker sent DISCONNECT to a subscriber: ") + mq::reason_name(d->reason));
  }
}

void Worker::on_close(Connection& c, const char* why) {
  if (s_.finishing.load()) return;
  s_.error(std::string(c.tag() & kSubTag ? "subscriber" : "publisher") + " connection lost: " + why +
           (c.error().empty() ? "" : " (" + c.error() + ")"));
  s_.failed.fetch_add(1);
}

void Worker::publish(Pub& p, int64_t now) {
  PayloadHeader h{uint32_t(p.id), p.seq, now};
  h.write(p.payload);
  mq::Publish pk;
  pk.topic = p.topic;
  pk.payload = p.payload;
  pk.qos = uint8_t(s_.opt.qos);
  if (pk.qos > 0) {
    while (p.next_pid == 0 || p.pid_busy[p.next_pid]) ++p.next_pid;
    pk.packet_id = p.next_pid++;
    p.pid_busy[pk.packet_id] = 1;
    ++p.inflight;
  }
  mq::encode(pk, s_.version, p.conn->out());
  ++p.seq;
  s_.sent.fetch_add(1, std::memory_order_relaxed);
  if (now >= ws_ && now < we_) ++window_sent;
}

// Sends what this publisher may send now; returns when it next wants to run
// (kNever = when an event arrives).
int64_t Worker::pump(Pub& p, int64_t now) {
  if (!p.ready || !p.conn->is_open()) return kNever;
  const bool closed_loop = s_.opt.rate <= 0;
  const uint64_t fan = uint64_t(s_.plan.fan);
  for (int burst = 0; burst < 256 && p.seq < p.quota; ++burst) {
    if (!closed_loop && p.next_due > now) return p.next_due;
    if (p.conn->pending_out() > kMaxPendingOut) return now + kNsPerMs;
    if (s_.opt.qos > 0 && p.inflight >= p.max_inflight) return kNever;
    if (closed_loop) {
      // Bound messages not yet at their subscribers, not merely those the broker
      // acked: otherwise the broker only buffers and the figure is its queue speed.
      uint64_t got = s_.delivered[size_t(p.id)].load(std::memory_order_relaxed);
      uint64_t outstanding = p.seq * fan - got - p.written_off;
      if (outstanding >= uint64_t(s_.opt.window) * fan) {
        if (p.stalled_since == 0) p.stalled_since = now;
        if (now - p.stalled_since < kStallNs) return p.stalled_since + kStallNs;
        p.written_off += outstanding;
        ++stalls;
      }
      p.stalled_since = 0;
    }
    publish(p, now_ns());
    if (!closed_loop) p.next_due += p.interval_ns;
  }
  return p.seq < p.quota ? now : kNever;
}

void Worker::keepalive(int64_t now) {
  if (s_.opt.keepalive == 0) return;
  const int64_t idle = int64_t(s_.opt.keepalive) * kNsPerSec / 2;
  auto ping = [&](Connection& c) {
    if (c.is_open() && c.tcp_connected() && now - c.last_write_ns() > idle) mq::encode_pingreq(c.out());
  };
  for (auto& p : pubs_) ping(*p.conn);
  for (auto& s : subs_) ping(*s.conn);
}

void Worker::disconnect_all() {
  mq::Disconnect d;
  for (auto& p : pubs_)
    if (p.conn->is_open()) mq::encode(d, s_.version, p.conn->out());
  for (auto& s : subs_)
    if (s.conn->is_open()) mq::encode(d, s_.version, s.conn->out());
  loop.flush_dirty();
  for (auto& p : pubs_) p.conn->close("done");
  for (auto& s : subs_) s.conn->close("done");
}

void Worker::run() {
  sockaddr_in dst;
  make_addr(s_.opt.host, s_.opt.port, dst);
  // Subscribers first, so none misses the first publishes.
  for (auto& s : subs_) {
    if (!s.conn->open(loop.fd(), dst, nullptr)) {
      s_.error("subscriber connect: " + s.conn->error());
      s_.failed.fetch_add(1);
    }
  }
  for (auto& p : pubs_) {
    if (!p.conn->open(loop.fd(), dst, nullptr)) {
      s_.error("publisher connect: " + p.conn->error());
      s_.failed.fetch_add(1);
    }
  }
  bool started = false;
  int64_t next_keepalive = now_ns() + kNsPerSec;
  const int64_t max_sleep = s_.opt.threads > 1 ? kNsPerMs : 50 * kNsPerMs;
  while (!s_.done.load(std::memory_order_relaxed)) {
    int64_t now = now_ns();
    int64_t wake = now + max_sleep;
    if (!started) {
      int64_t st = s_.start_ns.load(std::memory_order_acquire);
      if (st != 0) {
        started = true;
        for (auto& p : pubs_) p.next_due += st;
      } else {
        wake = now + kNsPerMs;
      }
    }
    ws_ = s_.window_start.load(std::memory_order_relaxed);
    we_ = s_.window_end.load(std::memory_order_relaxed);
    if (s_.finishing.load(std::memory_order_relaxed)) break;
    if (started && !s_.stop_publishing.load(std::memory_order_relaxed)) {
      for (auto& p : pubs_) wake = std::min(wake, pump(p, now));
    }
    if (now >= next_keepalive) {
      keepalive(now);
      next_keepalive = now + kNsPerSec;
    }
    loop.flush_dirty();
    delivered_now_ = false;
    loop.run_once(std::max<int64_t>(0, wake - now_ns()));
    // Publishers on other threads may be waiting for exactly these deliveries.
    if (delivered_now_ && s_.loops.size() > 1)
      for (EventLoop* l : s_.loops)
        if (l != &loop) l->wake();
  }
  disconnect_all();
}

void sleep_until_ns(int64_t t) {
  int64_t d = t - now_ns();
  if (d > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(d));
}

}  // namespace

int run_pubsub(const Options& opt) {
  Plan plan;
  if (opt.scenario == "fanin") {
    plan.npubs = opt.pubs ? opt.pubs : 4;
    plan.nsubs = 1;
    plan.fan = 1;
  } else if (opt.scenario == "fanout") {
    plan.npubs = 1;
    plan.nsubs = opt.subs ? opt.subs : 100;
    plan.fan = plan.nsubs;
  } else {  // pairs
    plan.npubs = plan.nsubs = opt.pubs ? opt.pubs : 10;
    plan.fan = 1;
    plan.pairs = true;
  }
  Shared shared(opt, plan);
  const int nthreads = std::max(1, opt.threads);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < nthreads; ++t) {
    workers.push_back(std::make_unique<Worker>(shared, t));
    shared.loops.push_back(&workers.back()->loop);
  }
  // Round-robin over threads, subscribers then publishers, so each thread gets a share of both.
  int slot = 0;
  for (int i = 0; i < plan.nsubs; ++i) workers[size_t(slot++ % nthreads)]->add_sub(i);
  for (int i = 0; i < plan.npubs; ++i) workers[size_t(slot++ % nthreads)]->add_pub(i);

  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });

  auto stop = [&](int code) {
    shared.finishing.store(true);
    shared.done.store(true);
    for (auto& t : threads) t.join();
    return code;
  };

  // Setup: every connection CONNACKed, every subscription SUBACKed.
  const int want = plan.npubs + plan.nsubs;
  int64_t setup_deadline = now_ns() + 15 * kNsPerSec;
  while (shared.ready.load() < want && shared.failed.load() == 0 && now_ns() < setup_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (shared.ready.load() < want) {
    std::fprintf(stderr, "sluice-bench: setup failed: %d of %d connections ready: %s\n", shared.ready.load(),
                 want, shared.first_error.empty() ? "timed out" : shared.first_error.c_str());
    return stop(1);
  }

  const int64_t start = now_ns() + kNsPerMs;
  const bool by_count = opt.count > 0;
  const int64_t warm = by_count ? 0 : int64_t(opt.warmup * 1e9);
  shared.window_start.store(start + warm);
  shared.window_end.store(by_count ? kNever : start + warm + int64_t(opt.duration * 1e9));
  shared.start_ns.store(start, std::memory_order_release);

  sleep_until_ns(start + warm);
  const auto broker_cpu0 = opt.broker_pid ? process_cpu_seconds(opt.broker_pid) : std::nullopt;
  const double self_cpu0 = self_cpu_seconds();
  const int64_t t0 = now_ns();
  if (by_count) {
    // Until every publish is out (bounded by --duration as a safety net).
    int64_t deadline = start + int64_t(std::max(opt.duration, 1.0) * 1e9);
    while (shared.sent.load() < opt.count && shared.failed.load() == 0 && now_ns() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } else {
    const int64_t end = shared.window_end.load();
    while (now_ns() < end && shared.failed.load() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(50, std::max<int64_t>(0, (end - now_ns()) / kNsPerMs))));
  }
  shared.stop_publishing.store(true);
  // In count mode the window closes when the last delivery arrives (after the drain).
  if (!by_count) shared.window_end.store(now_ns());
  const int64_t t1_pub = now_ns();
  const auto broker_cpu1 = (opt.broker_pid && !by_count) ? process_cpu_seconds(opt.broker_pid) : std::nullopt;
  const double self_cpu1 = self_cpu_seconds();

  // Drain: QoS >= 1 until everything arrived; QoS 0 until nothing moves for 500 ms.
  const int64_t drain_deadline = now_ns() + int64_t(opt.drain_timeout * 1e9);
  uint64_t last = shared.total_delivered();
  int64_t last_progress = now_ns();
  for (;;) {
    uint64_t expected = shared.sent.load() * uint64_t(plan.fan);
    uint64_t got = shared.total_delivered();
    int64_t now = now_ns();
    if (got >= expected || now >= drain_deadline || shared.failed.load() > 0) break;
    if (got != last) {
      last = got;
      last_progress = now;
    } else if (opt.qos == 0 && now - last_progress > 500 * kNsPerMs) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int64_t t1 = t1_pub;
  std::optional<double> broker_cpu_end = broker_cpu1;
  if (by_count) {
    t1 = now_ns();
    shared.window_end.store(t1);
    if (opt.broker_pid) broker_cpu_end = process_cpu_seconds(opt.broker_pid);
  }
  stop(0);

  Histogram hist;
  PubSubTotals tot;
  for (auto& w : workers) {
    hist.merge(w->hist);
    tot.window_delivered += w->window_delivered;
    tot.window_sent += w->window_sent;
    tot.dup += w->dup;
    tot.stray += w->stray;
    tot.stalls += w->stalls;
    tot.rejected += w->rejected;
  }
  tot.sent = shared.sent.load();
  tot.expected = tot.sent * uint64_t(plan.fan);
  tot.delivered = shared.total_delivered();
  tot.lost = tot.expected > tot.delivered ? tot.expected - tot.delivered : 0;
  tot.seconds = double(t1 - t0) / 1e9;
  const double pub_seconds = double(t1_pub - t0) / 1e9;
  tot.tool_cpu_pct = pub_seconds > 0.01 ? 100.0 * (self_cpu1 - self_cpu0) / pub_seconds : 0.0;
  if (broker_cpu0 && broker_cpu_end) tot.broker_cpu_s = *broker_cpu_end - *broker_cpu0;
  tot.pubs = plan.npubs;
  tot.subs = plan.nsubs;
  tot.failed = shared.failed.load();
  tot.error = shared.first_error;
  print_pubsub(opt, tot, hist);

  if (tot.failed > 0) return 1;
  if (opt.qos > 0 && tot.lost > 0) return 2;
  return 0;
}

}  // namespace sbench
