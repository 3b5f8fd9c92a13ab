#include "conns.hpp"  // run_connrate

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

int run_connrate(const Options& opt) {
  ConnRate r(opt);
  return r.run();
}

}  // namespace sbench
