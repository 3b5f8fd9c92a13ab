#pragma once
// The rights of one admitted connection (broker::ClientAccess), the same for
// every authentication mode: the instance's own topic rules, a decision cache
// per topic (dropped every second, since acs:CurrentTime is offered to
// policies, and whenever the IAM or MQ state changes), the per-connection
// message rate, and the audit and trace of every refusal. What the identity may
// do is its mode's Credential's to say.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/access.hpp"
#include "broker/publish_rate.hpp"
#include "mq/auth_mode.hpp"
#include "mq/audit.hpp"

namespace sluice::mq {

class MqAccessControl;
using InstanceRate = broker::PublishRate;
class MqService;
struct MqState;

// The last few topics a connection was allowed to receive, newest replacing the
// oldest: a subscriber to a wildcard usually hears from a handful of publishers,
// each on its own topic, so one entry (a "last topic") would miss every time
// they alternate. Compared from the last byte, where such topics differ.
class RecentTopics {
 public:
  bool has(std::string_view t) const {
    if (t.empty()) return false;
    for (const auto& e : entries_)
      if (e.size() == t.size() && e.back() == t.back() && same(e.data(), t.data(), t.size())) return true;
    return false;
  }
  void add(std::string_view t) {
    entries_[next_].assign(t);
    next_ = (next_ + 1) % kSize;
  }
  void clear() {
    for (auto& e : entries_) e.clear();
  }

 private:
  // Eight bytes at a time: topics are short, and a call to memcmp costs more than them.
  static bool same(const char* a, const char* b, size_t n) {
    for (; n >= 8; a += 8, b += 8, n -= 8) {
      uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return false;
    }
    for (; n; --n)
      if (*a++ != *b++) return false;
    return true;
  }
  static constexpr size_t kSize = 4;
  std::string entries_[kSize];
  size_t next_ = 0;
};

// The guard of a will another node of a cluster recorded (MqAccessControl::
// will_guard_for): the identity rebuilt here decides it when it goes out; one
// that could not be rebuilt (`why`) refuses it, audited as any refused will.
std::shared_ptr<broker::WillGuard> revived_will_guard(MqAccessControl& ac, ClientFacts f,
                                                      std::unique_ptr<Credential> cred);
std::shared_ptr<broker::WillGuard> refused_will_guard(MqAccessControl& ac, ClientFacts f, std::string why);

class MqClientAccess final : public broker::ClientAccess {
 public:
  MqClientAccess(MqAccessControl& ac, ClientFacts facts, std::unique_ptr<Credential> cred);
  // For a will guard: the same identity, no cached decisions.
  MqClientAccess(const MqClientAccess& o);
  MqClientAccess& operator=(const MqClientAccess&) = delete;
  ~MqClientAccess() override;

  const ClientFacts& facts() const { return f_; }

  mqtt::Reason authorize_publish(std::string_view topic, uint8_t qos, bool retain) override;
  mqtt::Reason authorize_subscribe(std::string_view filter) override;
  bool may_receive(std::string_view topic) override {
    // Fast path: a subscriber usually receives the same few topics again and
    // again. The rest is out of line, so that this stays a few instructions.
    return recent_.has(topic) || may_receive_slow(topic);
  }
  std::shared_ptr<broker::WillGuard> will_guard() override;
  std::string identity() const override;
  Check check(int64_t now_ms) override;
  bool on_system_publish(std::string_view topic, std::string_view payload) override;
  bool close_on_denied_publish() const override;
  void on_close(std::string_view why) override;

  // A fresh, uncached decision on a will about to go out (MqWillGuard): the
  // identity must still be admitted and still allowed to publish its topic.
  bool will_allowed(const broker::Message& will);

 private:
  [[gnu::noinline]] bool may_receive_slow(std::string_view topic);
  const InstanceState* instance() const;
  void refresh();       // a new snapshot of the MQ state, and the limits read from it
  void clear_caches();
  bool is_own_p2p(std::string_view topic) const;
  bool rate_limited();
  bool instance_rate_limited();
  void remember(std::unordered_map<std::string, mqtt::Reason>& cache, const std::string& k, mqtt::Reason r);
  void remember_last(std::string_view topic, uint8_t qos, bool retain);
  mqtt::Reason topic_basics(const InstanceState* i, std::string_view topic, std::string* why,
                            mqtt::Reason invalid) const;
  mqtt::Reason decide_publish(std::string_view topic, uint8_t qos, bool retain, std::string* why);
  mqtt::Reason decide_subscribe(std::string_view filter, std::string* why);
  bool still_admitted(int64_t now_ms, std::string* why, Notices& notices);
  AuditEvent event(std::string name, std::string_view resource, std::string reason) const;
  mqtt::Reason deny(const char* op, std::string_view resource, const std::string& why,
                    mqtt::Reason r = mqtt::Reason::NotAuthorized);

  MqAccessControl& ac_;
  MqService& mq_;
  const ClientFacts f_;
  std::unique_ptr<Credential> cred_;
  std::shared_ptr<const MqState> snapshot_;
  uint64_t iam_gen_ = 0, mq_gen_ = 0;
  int64_t cache_second_ = 0;
  std::string key_;  // scratch: cache key
  std::unordered_map<std::string, mqtt::Reason> pub_cache_, sub_cache_;
  std::unordered_map<std::string, bool> recv_cache_;  // may_receive, per concrete topic
  RecentTopics recent_;                               // the last topics may_receive allowed
  Notices pending_notices_;
  std::string closing_reason_;
  int64_t rate_second_ = 0;
  uint32_t rate_count_ = 0;
  uint32_t rate_max_ = 0;
  std::shared_ptr<InstanceRate> instance_rate_;  // shared with the instance's other connections
  uint32_t instance_rate_max_ = 0;
  int64_t instance_rate_noted_ = 0;  // the second whose refusal was audited
  // The last allowed publish (topic, QoS, retain): valid until the caches are dropped.
  std::string last_topic_;
  uint8_t last_qos_ = 0;
  bool last_retain_ = false;
  bool last_valid_ = false;
};

}  // namespace sluice::mq
