#include "conns.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "clock.hpp"
#include "conn_setup.hpp"
#include "event_loop.hpp"
#include "histogram.hpp"
#include "proc_stats.hpp"
#include "report.hpp"

namespace sbench {
namespace mq = sluice::mqtt;

namespace {

class IdleConns : public ConnectionHandler {
 public:
  explicit IdleConns(const Options& opt) : opt_(opt), sources_(opt) {}
  int run();

 private:
  void on_open(Connection& c) override {
    send_connect(opt_, c, "sbi" + std::to_string(getpid()) + "-" + std::to_string(c.tag()));
  }
  void on_packet(Connection& c, mq::Packet& p) override {
    if (auto* ca = std::get_if<mq::Connack>(&p)) {
      if (ca->reason == mq::Reason::Success && opt_.subscribe) {
        // One subscription each, to a topic of its own (the memory a subscription
        // costs); counted once the SUBACK is in.
        mq::Subscribe sub;
        sub.packet_id = 1;
        sub.subscriptions.push_back({"idle/" + std::to_string(c.tag()), mq::SubscribeOptions{0}});
        mq::encode(sub, version_of(opt_), c.out());
        return;
      }
      --pending_;
      if (ca->reason == mq::Reason::Success) {
        ++ok_;
        acked_[c.tag()] = 1;
      } else {
        ++failed_;
        if (error_.empty()) error_ = std::string("CONNACK refused: ") + mq::reason_name(ca->reason);
        c.close("refused");
      }
    } else if (auto* sa = std::get_if<mq::SubAck>(&p)) {
      on_suback(c, *sa);
    }
  }
  void on_suback(Connection& c, const mq::SubAck& sa) {
    --pending_;
    if (!sa.reasons.empty() && uint8_t(sa.reasons[0]) < 0x80) {
      ++ok_;
      acked_[c.tag()] = 1;
      return;
    }
    ++failed_;
    if (error_.empty()) error_ = "SUBACK refused";
    c.close("suback refused");
  }
  void on_close(Connection& c, const char* why) override {
    if (finishing_) return;
    if (acked_[c.tag()]) {
      --ok_;  // dropped while idle: it no longer counts
      ++dropped_;
    } else {
      --pending_;
      ++failed_;
    }
    if (error_.empty()) error_ = std::string(why) + (c.error().empty() ? "" : ": " + c.error());
  }

  const Options& opt_;
  SourceRotation sources_;
  EventLoop loop_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<uint8_t> acked_;
  int pending_ = 0, ok_ = 0, failed_ = 0, dropped_ = 0;
  bool finishing_ = false;
  std::string error_;
};

int IdleConns::run() {
  sockaddr_in dst;
  make_addr(opt_.host, opt_.port, dst);
  const int target = opt_.conns;
  // More than a few dozen overflow small accept backlogs (mosquitto listens with a
  // short one): dropped SYNs come back only after a 1 s retransmit.
  const int concurrency = opt_.concurrency > 0 ? opt_.concurrency : 32;
  ConnTotals t;
  t.target = target;
  if (opt_.broker_pid) t.rss_before_kb = process_rss_kb(opt_.broker_pid);
  conns_.reserve(size_t(target));
  acked_.assign(size_t(target), 0);
  const int64_t t0 = now_ns();
  const double cpu0 = self_cpu_seconds();
  // Opening: a bounded number of handshakes in flight, or the broker's accept
  // backlog overflows and SYNs are retried a second later.
  // Generous: on a busy machine 20,000 handshakes can take tens of seconds.
  const int64_t open_deadline = t0 + int64_t(std::max(60.0, target / 200.0) * 1e9);
  int opened = 0;
  while ((opened < target || pending_ > 0) && now_ns() < open_deadline) {
    while (opened < target && pending_ < concurrency) {
      auto c = std::make_unique<Connection>(*this, loop_.dirty(), uint64_t(opened), 512);
      ++pending_;
      if (!c->open(loop_.fd(), dst, sources_.next(uint64_t(opened)))) {
        --pending_;
        ++failed_;
        if (error_.empty()) error_ = c->error();
      }
      conns_.push_back(std::move(c));
      ++opened;
    }
    loop_.run_once(10 * kNsPerMs);
  }
  failed_ += pending_ + (target - opened);  // never answered, never tried
  if (pending_ > 0 && error_.empty()) error_ = "no CONNACK before the deadline";
  t.seconds = double(now_ns() - t0) / 1e9;
  t.tool_cpu_pct = 100.0 * (self_cpu_seconds() - cpu0) / std::max(t.seconds, 1e-9);
  std::printf("READY conns=%d failed=%d\n", ok_, failed_);
  std::fflush(stdout);
  // Hold: keep answering the broker (keep-alive pings) while the caller looks at it.
  const int64_t hold_end = now_ns() + int64_t(opt_.hold * 1e9);
  int64_t next_ping = now_ns() + kNsPerSec;
  bool sampled = false;
  while (now_ns() < hold_end) {
    int64_t now = now_ns();
    if (opt_.keepalive && now >= next_ping) {
      const int64_t idle = int64_t(opt_.keepalive) * kNsPerSec / 2;
      for (auto& c : conns_)
        if (c->is_open() && c->tcp_connected() && now - c->last_write_ns() > idle) mq::encode_pingreq(c->out());
      next_ping = now + kNsPerSec;
    }
    // RSS once the broker has settled (allocations from the handshakes freed or kept).
    if (!sampled && opt_.broker_pid && now >= hold_end - std::min<int64_t>(int64_t(opt_.hold * 1e9) / 2, kNsPerSec)) {
      t.rss_after_kb = process_rss_kb(opt_.broker_pid);
      sampled = true;
    }
    loop_.run_once(std::min<int64_t>(100 * kNsPerMs, std::max<int64_t>(0, hold_end - now)));
  }
  if (opt_.broker_pid && !sampled) t.rss_after_kb = process_rss_kb(opt_.broker_pid);
  t.ok = ok_;
  t.failed = failed_ + dropped_;
  t.error = error_;
  finishing_ = true;
  print_conns(opt_, t, Histogram());
  mq::Disconnect d;
  for (auto& c : conns_)
    if (c->is_open() && c->tcp_connected()) mq::encode(d, version_of(opt_), c->out());
  loop_.flush_dirty();
  conns_.clear();
  return ok_ == target ? 0 : 1;
}


}  // namespace

int run_conns(const Options& opt) {
  IdleConns r(opt);
  return r.run();
}

}  // namespace sbench
