#include "cluster/catch_up.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cluster/bus.hpp"
#include "cluster/envelope.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/shared_groups.hpp"
#include "cluster/subjects.hpp"
#include "common/log.hpp"

namespace sluice::cluster {

namespace {
constexpr int64_t kReadIdleMs = 10000;  // the log stops answering during a read
}  // namespace

std::optional<uint64_t> log_end(NatsLink& link) {
  std::optional<uint64_t> last;
  for (int i = 0; i < 50 && !(last = link.js_last_seq(ClusterBus::kStream)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return last;
}

std::vector<LoggedCopy> read_log(NatsLink& link, std::string_view ns, uint64_t lo, uint64_t upto,
                                 std::string_view what) {
  std::vector<LoggedCopy> out;
  if (upto <= lo) return out;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t seen = 0, pending = 0;
  bool got = false;
  auto sub = link.js_follow(ClusterBus::kStream, "sl1." + escape_token(ns) + ".>", lo + 1, [&](NatsMessage&& m) {
    std::lock_guard lk(mu);
    seen = std::max(seen, m.stream_seq);
    pending = m.pending;
    got = true;
    if (m.stream_seq <= upto && m.stream_seq > lo) {
      if (auto opened = open_message(m.data, m.headers)) {
        auto& copy = opened->message;
        copy->log_seq = m.stream_seq;
        copy->origin = 0;
        copy->route_key = opened->envelope.route_key;
        out.push_back(LoggedCopy{std::move(copy), std::string(opened->envelope.node), opened->envelope.origin});
      }
    }
    cv.notify_all();
  });
  {
    // Until the consumer has nothing pending up to the end asked for; a
    // namespace with nothing in the range sends nothing at all. Nothing
    // delivered and nothing pending: no message of the namespace in the range
    // (asked, not guessed from a silence: a busy machine can be slow to send
    // the first one).
    const auto progress = link.js_progress(sub);
    const bool nothing = progress && progress->first == 0 && progress->second == 0;
    std::unique_lock lk(mu);
    while (!nothing && !(seen >= upto || (got && pending == 0))) {
      const uint64_t before = seen;
      if (!cv.wait_for(lk, std::chrono::milliseconds(kReadIdleMs), [&] { return seen != before; })) {
        log::warn("cluster: {}: the log stopped answering at {} of ({}, {}]", what, seen, lo, upto);
        break;
      }
    }
  }
  link.unsubscribe(sub);
  return out;
}

std::vector<std::string> share_deciders(const SharedGroups& groups, std::string_view ns, std::string_view group,
                                        std::string_view inner, const std::string& owner, uint64_t frontier) {
  std::vector<std::string> d;
  for (const auto& m : groups.members(ns, group, inner))
    if (m.node != owner && m.joined <= frontier) d.push_back(m.node);
  d.push_back(owner);
  return d;
}

bool wins_among(const std::vector<std::string>& nodes, const std::string& node, const broker::Message& m) {
  std::vector<const std::string*> ptrs;
  ptrs.reserve(nodes.size());
  for (const auto& n : nodes) ptrs.push_back(&n);
  return SharedGroups::winner(ptrs, SharedGroups::key_of(m.route_key, m.topic)) == node;
}

}  // namespace sluice::cluster
