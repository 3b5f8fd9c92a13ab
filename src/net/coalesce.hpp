#pragma once
// When an event loop may sleep between iterations so that its next reads bring
// batches (Worker::maybe_coalesce). Pure logic: no clock, no sockets.
//
// Paced input arrives a message or two at a time; an eager loop reads it as it
// comes and pays, per message, the read and the TCP ACK the read makes the
// kernel send. Sleeping [mqtt] coalesce_us after a busy iteration lets the next
// read bring a batch. Output is flushed before the sleep, so nothing waits in
// Sluice; the next input waits at most that long in its socket.
//
// What an iteration decoded decides (Owes):
// - only QoS 0 PUBLISHes (Nothing): the senders wait for nothing, sleep;
// - replies already queued and flushed before the sleep (Reply: QoS 1/2
//   PUBLISHes and their acknowledgements): a paced sender loses nothing, but a
//   sender whose window waits on our replies (closed loop) waits out each
//   sleep too, so its throughput falls. CoalesceProbe measures which one the
//   loop is serving;
// - anything else (Attention: CONNECT, SUBSCRIBE, PINGREQ, a new connection,
//   work from another thread): never sleep.
#include <cstdint>

namespace sluice::net {

enum class Owes : uint8_t { Nothing, Reply, Attention };

inline Owes operator|(Owes a, Owes b) { return a > b ? a : b; }

// Whether an iteration that found its input already waiting (busy) and decoded
// `packets` packets may be followed by a sleep. `replies_may_wait`: the probe's
// verdict for iterations that owe replies.
inline bool should_coalesce(uint32_t coalesce_us, bool busy, Owes owes, uint32_t packets,
                            bool replies_may_wait) {
  constexpr uint32_t kFewPackets = 64;  // a full 64 KiB read holds hundreds: closed-loop loads never sleep
  if (coalesce_us == 0 || !busy || packets == 0 || packets >= kFewPackets) return false;
  return owes == Owes::Nothing || (owes == Owes::Reply && replies_may_wait);
}

// Decides whether iterations owing replies may sleep, by trying: every second,
// a short phase that sleeps after them and one that does not, each counting
// the packets the loop decoded and the CPU time the loop's thread used. Sleeping
// stays on only if it kept at least kKeep of the eager rate (the senders are
// paced: they send whatever we do; a closed loop's windows wait on our replies
// and lose throughput) and cost at most kSave of the eager CPU per packet (the
// reads did bring batches: a fan-out's acknowledgements come one per
// subscriber socket whatever we do, and the sleeps only add wake-ups). The
// eager phase of a probe costs what not coalescing costs, 1 % of the time; the
// sleeping phase of a closed loop costs its loss for 1 % of the time.
class CoalesceProbe {
 public:
  static constexpr int64_t kPeriodNs = 1'000'000'000;
  static constexpr int64_t kPhaseNs = 10'000'000;
  static constexpr double kKeep = 0.92;
  static constexpr double kSave = 0.9;

  // Once per iteration: the packets it decoded and the time after it.
  // `thread_cpu_ns()` (the loop thread's CPU time, a system call) is asked
  // only when a phase begins or ends.
  template <typename CpuClock>
  void count(uint32_t packets, int64_t now_ns, CpuClock&& thread_cpu_ns) {
    if (phase_ == Phase::Steady) {
      if (now_ns >= next_probe_ns_) begin(Phase::Sleeping, now_ns, thread_cpu_ns());
      return;
    }
    packets_ += packets;
    if (now_ns - phase_start_ns_ < kPhaseNs) return;
    const Outcome o{double(packets_) / double(now_ns - phase_start_ns_),
                    packets_ ? double(thread_cpu_ns() - phase_cpu_ns_) / double(packets_) : 0};
    if (phase_ == Phase::Sleeping) {
      sleeping_ = o;
      begin(Phase::Eager, now_ns, thread_cpu_ns());
      return;
    }
    replies_may_wait_ = sleeping_.rate > 0 && sleeping_.rate >= kKeep * o.rate &&
                        sleeping_.cpu_per_packet <= kSave * o.cpu_per_packet;
    phase_ = Phase::Steady;
    next_probe_ns_ = now_ns + kPeriodNs;
  }

  bool replies_may_wait() const {
    switch (phase_) {
      case Phase::Sleeping: return true;
      case Phase::Eager: return false;
      case Phase::Steady: break;
    }
    return replies_may_wait_;
  }

 private:
  enum class Phase : uint8_t { Steady, Sleeping, Eager };
  struct Outcome {
    double rate = 0;            // packets per ns
    double cpu_per_packet = 0;  // ns
  };
  void begin(Phase p, int64_t now_ns, int64_t cpu_ns) {
    phase_ = p;
    phase_start_ns_ = now_ns;
    phase_cpu_ns_ = cpu_ns;
    packets_ = 0;
  }
  Phase phase_ = Phase::Steady;
  bool replies_may_wait_ = false;  // eager until a probe says otherwise
  int64_t next_probe_ns_ = 0;
  int64_t phase_start_ns_ = 0;
  int64_t phase_cpu_ns_ = 0;
  uint64_t packets_ = 0;
  Outcome sleeping_;
};

}  // namespace sluice::net
