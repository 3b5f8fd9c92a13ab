#include "pubsub_worker.hpp"

#include <unistd.h>

#include <algorithm>

#include "clock.hpp"
#include "credentials.hpp"
#include "payload.hpp"

namespace sbench {

namespace {
// A closed-loop publisher that sees no delivery progress for this long writes
// off its outstanding messages (QoS 0 may be dropped) instead of stalling forever.
constexpr int64_t kStallNs = 200 * kNsPerMs;
// Past this much unsent output a publisher waits: the broker is not reading.
constexpr size_t kMaxPendingOut = 1 << 20;

// Who publishes where and who receives what.
}  // namespace

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
  if (s_.opt.persistent_subs && (c.tag() & kSubTag)) {
    // What a broker must make durable: QoS 1 messages routed to a persistent session.
    ct.clean_start = false;
    if (s_.version == mq::Version::V5) ct.props.session_expiry_interval = 3600;
  }
  ct.keep_alive = s_.opt.keepalive;
  const std::string id = client_id_for(s_.opt, "sb" + std::to_string(getpid()) + (c.tag() & kSubTag ? "s" : "p") +
                                                   std::to_string(c.tag() & 0xffffffff) + "w" + std::to_string(index_));
  const std::string password = password_for(s_.opt, id);
  ct.client_id = id;
  if (!s_.opt.username.empty()) ct.username = s_.opt.username;
  if (!password.empty()) ct.password = password;
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
  sockaddr_in dst, sub_dst;
  make_addr(s_.opt.host, s_.opt.port, dst);
  make_addr(s_.opt.host, s_.opt.sub_port ? s_.opt.sub_port : s_.opt.port, sub_dst);
  // Subscribers first, so none misses the first publishes.
  for (auto& s : subs_) {
    if (!s.conn->open(loop.fd(), sub_dst, nullptr)) {
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

}  // namespace sbench
