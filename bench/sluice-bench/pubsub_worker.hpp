#pragma once
// The pieces of a publish/subscribe run: the Plan (who publishes where, who
// receives what), the state all threads share, and the Worker — one thread with
// its epoll loop driving a share of the publishers and subscribers.
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "event_loop.hpp"
#include "histogram.hpp"
#include "options.hpp"
#include "seq_tracker.hpp"

namespace sbench {
namespace mq = sluice::mqtt;

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

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


}  // namespace sbench
