#include "conns.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "clock.hpp"
#include "event_loop.hpp"
#include "histogram.hpp"
#include "proc_stats.hpp"
#include "report.hpp"

namespace sbench {
namespace mq = sluice::mqtt;

namespace {

// Source addresses 127.0.0.2, .3, ...: each has its own ~28,000 ephemeral
// ports towards the broker, so rotating lets one run pass that limit.
class SourceRotation {
 public:
  SourceRotation(const Options& opt) : per_(std::max(1, opt.per_source)) {
    sockaddr_in dst;
    make_addr(opt.host, opt.port, dst);
    // Only for a loopback target: elsewhere 127.x could not reach it.
    loopback_ = (ntohl(dst.sin_addr.s_addr) >> 24) == 127;
  }
  // Source for the n-th connection, or nullptr to let the kernel choose.
  const sockaddr_in* next(uint64_t n) {
    if (!loopback_) return nullptr;
    uint32_t host = 2 + uint32_t((n / uint64_t(per_)) % 253);  // 127.0.0.2 .. 127.0.0.254
    std::memset(&src_, 0, sizeof src_);
    src_.sin_family = AF_INET;
    src_.sin_addr.s_addr = htonl((127u << 24) | host);
    return &src_;
  }

 private:
  int per_;
  bool loopback_ = false;
  sockaddr_in src_{};
};

mq::Version version_of(const Options& opt) { return opt.protocol == 5 ? mq::Version::V5 : mq::Version::V3_1_1; }

// Also sets the connection up to decode server packets of that version.
void send_connect(const Options& opt, Connection& c, const std::string& client_id) {
  c.parser().as_client().set_version(version_of(opt));
  std::string& out = c.out();
  mq::Connect ct;
  ct.version = opt.protocol == 5 ? mq::Version::V5 : mq::Version::V3_1_1;
  ct.clean_start = true;
  ct.keep_alive = opt.keepalive;
  ct.client_id = client_id;
  if (!opt.username.empty()) ct.username = opt.username;
  if (!opt.password.empty()) ct.password = opt.password;
  mq::encode(ct, out);
}

// --- conns -----------------------------------------------------------------

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
      --pending_;
      if (ca->reason == mq::Reason::Success) {
        ++ok_;
        acked_[c.tag()] = 1;
      } else {
        ++failed_;
        if (error_.empty()) error_ = std::string("CONNACK refused: ") + mq::reason_name(ca->reason);
        c.close("refused");
      }
    }
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
  const int concurrency = opt_.concurrency > 0 ? opt_.concurrency : 256;
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

// --- connrate --------------------------------------------------------------

class ConnRate : public ConnectionHandler {
 public:
  explicit ConnRate(const Options& opt) : opt_(opt), sources_(opt) {}
  int run();

 private:
  struct Slot {
    std::unique_ptr<Connection> conn;
    int64_t started = 0;
    bool restart = true;
  };
  void on_open(Connection& c) override {
    send_connect(opt_, c, "sbr" + std::to_string(getpid()) + "-" + std::to_string(c.tag()));
  }
  void on_packet(Connection& c, mq::Packet& p) override {
    Slot& s = slots_[c.tag()];
    if (auto* ca = std::get_if<mq::Connack>(&p)) {
      if (ca->reason == mq::Reason::Success) {
        int64_t now = now_ns();
        if (now >= window_start_) {
          ++ok_;
          hist_.record(uint64_t(now - s.started));
        }
        mq::encode(mq::Disconnect{}, version_of(opt_), c.out());
        c.flush();
      } else {
        ++failed_;
        if (error_.empty()) error_ = std::string("CONNACK refused: ") + mq::reason_name(ca->reason);
      }
      closing_ = true;
      c.close("cycle done");
      closing_ = false;
    }
  }
  void on_close(Connection& c, const char* why) override {
    Slot& s = slots_[c.tag()];
    s.restart = true;
    if (closing_) return;
    ++failed_;
    if (error_.empty()) error_ = std::string(why) + (c.error().empty() ? "" : ": " + c.error());
  }

  const Options& opt_;
  SourceRotation sources_;
  EventLoop loop_;
  std::vector<Slot> slots_;
  Histogram hist_;
  int ok_ = 0, failed_ = 0;
  bool closing_ = false;
  int64_t window_start_ = 0;
  std::string error_;
};

int ConnRate::run() {
  sockaddr_in dst;
  make_addr(opt_.host, opt_.port, dst);
  slots_.resize(size_t(opt_.concurrency > 0 ? opt_.concurrency : 8));
  const int64_t t_begin = now_ns();
  window_start_ = t_begin + int64_t(opt_.warmup * 1e9);
  const int64_t end = window_start_ + int64_t(opt_.duration * 1e9);
  double cpu0 = 0;
  bool measuring = false;
  uint64_t n = 0;
  while (now_ns() < end) {
    if (!measuring && now_ns() >= window_start_) {
      measuring = true;
      cpu0 = self_cpu_seconds();
    }
    // Replace finished connections here, outside their callbacks.
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (!s.restart) continue;
      s.restart = false;
      s.conn = std::make_unique<Connection>(*this, loop_.dirty(), i, 512);
      s.started = now_ns();
      if (!s.conn->open(loop_.fd(), dst, sources_.next(n++))) {
        ++failed_;
        if (error_.empty()) error_ = s.conn->error();
        s.restart = true;
      }
    }
    if (failed_ > 1000 && ok_ == 0) break;  // nothing works: don't spin
    loop_.run_once(10 * kNsPerMs);
  }
  ConnTotals t;
  t.seconds = std::max(0.0, double(now_ns() - window_start_) / 1e9);
  t.tool_cpu_pct = measuring ? 100.0 * (self_cpu_seconds() - cpu0) / std::max(t.seconds, 1e-9) : 0;
  t.ok = ok_;
  t.failed = failed_;
  t.target = 0;
  t.error = error_;
  closing_ = true;
  slots_.clear();
  print_conns(opt_, t, hist_);
  return ok_ > 0 && failed_ == 0 ? 0 : 1;
}

}  // namespace

int run_conns(const Options& opt) {
  IdleConns r(opt);
  return r.run();
}

int run_connrate(const Options& opt) {
  ConnRate r(opt);
  return r.run();
}

}  // namespace sbench
