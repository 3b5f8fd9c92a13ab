#include "mq/trace.hpp"

#include <chrono>

#include "common/log.hpp"
#include "mq/audit.hpp"
#include "mq/trace_disk.hpp"
#include "store/private_files.hpp"
#include "store/sqlite_db.hpp"

namespace sluice::mq {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string trace_msg_id(const broker::Message& m) {
  // The message object is shared by every delivery of one publish: its address
  // plus the publisher's session serial identifies it while traces are read.
  return fmt::format("{:016X}{:08X}", reinterpret_cast<uintptr_t>(&m), static_cast<uint32_t>(m.origin));
}

TraceStore::TraceStore(TraceLimits limits) : limits_(limits) {}
TraceStore::~TraceStore() = default;

void TraceStore::persist_to(std::unique_ptr<TraceDisk> disk) {
  size_t n = 0;
  {
    std::lock_guard lk(mu_);
    const int64_t now = wall_ms();
    disk->load(
        [&](const std::string& inst, DeviceTrace t) {
          auto& d = by_instance_[inst].devices;
          d.push_back(std::move(t));
          trim(d, limits_.max_device_events, now);
          ++n;
        },
        [&](const std::string& inst, MessageTrace t) {
          auto& d = by_instance_[inst].messages;
          d.push_back(std::move(t));
          trim(d, limits_.max_message_events, now);
          ++n;
        });
    disk_ = std::move(disk);  // under the lock: device() / message() read it there
  }
  log::info("traces: {} read back from disk", n);
}

template <class D>
void TraceStore::trim(D& d, size_t max, int64_t now) {
  while (d.size() > max) d.pop_front();
  while (!d.empty() && d.front().time_ms < now - limits_.max_age_ms) d.pop_front();
}

void TraceStore::device(std::string_view instance_id, DeviceTrace t) {
  if (!t.time_ms) t.time_ms = wall_ms();
  std::lock_guard lk(mu_);
  auto& p = by_instance_[std::string(instance_id)];
  const int64_t now = t.time_ms;
  if (disk_) disk_->device(instance_id, t);
  p.devices.push_back(std::move(t));
  trim(p.devices, limits_.max_device_events, now);
}

void TraceStore::message(std::string_view instance_id, MessageTrace t) {
  if (!t.time_ms) t.time_ms = wall_ms();
  std::lock_guard lk(mu_);
  auto& p = by_instance_[std::string(instance_id)];
  const int64_t now = t.time_ms;
  if (disk_) disk_->message(instance_id, t);
  p.messages.push_back(std::move(t));
  trim(p.messages, limits_.max_message_events, now);
}

std::vector<DeviceTrace> TraceStore::query_device(std::string_view instance_id, std::string_view client_id,
                                                  int64_t begin_ms, int64_t end_ms, size_t max) {
  std::vector<DeviceTrace> out;
  std::lock_guard lk(mu_);
  auto it = by_instance_.find(std::string(instance_id));
  if (it == by_instance_.end()) return out;
  trim(it->second.devices, limits_.max_device_events, wall_ms());
  for (const auto& t : it->second.devices) {
    if (t.time_ms < begin_ms || t.time_ms > end_ms) continue;
    if (!client_id.empty() && t.client_id != client_id) continue;
    out.push_back(t);
    if (out.size() >= max) break;
  }
  return out;
}

std::vector<MessageTrace> TraceStore::query_messages(std::string_view instance_id, std::string_view msg_id,
                                                     std::string_view client_id, std::string_view action,
                                                     int64_t begin_ms, int64_t end_ms, size_t max) {
  std::vector<MessageTrace> out;
  std::lock_guard lk(mu_);
  auto it = by_instance_.find(std::string(instance_id));
  if (it == by_instance_.end()) return out;
  trim(it->second.messages, limits_.max_message_events, wall_ms());
  for (const auto& t : it->second.messages) {
    if (t.time_ms < begin_ms || t.time_ms > end_ms) continue;
    if (!msg_id.empty() && t.msg_id != msg_id) continue;
    if (!client_id.empty() && t.client_id != client_id) continue;
    if (!action.empty() && t.action != action) continue;
    out.push_back(t);
    if (out.size() >= max) break;
  }
  return out;
}

void TraceStore::drop_instance(std::string_view instance_id) {
  std::lock_guard lk(mu_);
  by_instance_.erase(std::string(instance_id));
  if (disk_) disk_->drop_instance(instance_id);
}

namespace {
class StoreTracer final : public broker::MessageTracer {
 public:
  StoreTracer(TraceStore& s, std::string id) : store_(s), id_(std::move(id)) {}
  void published(const broker::Message& m, std::string_view client_id) override {
    store_.message(id_, MessageTrace{0, trace_msg_id(m), m.topic, std::string(client_id), "pub", m.qos});
  }
  void delivered(const broker::Message& m, std::string_view client_id, uint8_t qos) override {
    store_.message(id_, MessageTrace{0, trace_msg_id(m), m.topic, std::string(client_id), "deliver", qos});
  }

 private:
  TraceStore& store_;
  std::string id_;
};
}  // namespace

std::shared_ptr<broker::MessageTracer> TraceStore::tracer_for(std::string instance_id) {
  return std::make_shared<StoreTracer>(*this, std::move(instance_id));
}

void LogAuditSink::record(const AuditEvent& e) {
  log::warn("audit: {} account={} instance={} principal={} client={} ip={} resource={} reason={}", e.event,
            e.account_id, e.instance_id, e.principal, e.client_id, e.source_ip, e.resource, e.reason);
}

// ---- TraceDisk (mq/trace_disk.hpp): the traces.db file ----
namespace {
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS device_traces (
  instance_id TEXT NOT NULL, time_ms INTEGER NOT NULL, client_id TEXT NOT NULL, action TEXT NOT NULL,
  reason TEXT NOT NULL, channel_id TEXT NOT NULL, remote_ip TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS device_traces_time ON device_traces(time_ms);
CREATE TABLE IF NOT EXISTS message_traces (
  instance_id TEXT NOT NULL, time_ms INTEGER NOT NULL, msg_id TEXT NOT NULL, topic TEXT NOT NULL,
  client_id TEXT NOT NULL, action TEXT NOT NULL, qos INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS message_traces_time ON message_traces(time_ms);
)";
constexpr int64_t kPruneEveryMs = 60 * 1000;
}  // namespace

TraceDisk::TraceDisk(const std::string& path, TraceDiskLimits limits) : limits_(limits) {
  if (auto t = store::make_database_private(path); !t.empty()) log::warn("traces: tightened {}", t);
  db_ = store::SqliteDb::open(path);
  db_->exec("PRAGMA synchronous=NORMAL;");  // WAL: a crash may lose the last batch, never the file
  db_->exec(kSchema);
  prune();
  writer_ = std::thread([this] { run(); });
}

TraceDisk::~TraceDisk() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void TraceDisk::device(std::string_view instance_id, const DeviceTrace& t) {
  std::lock_guard lk(mu_);
  if (pending_.size() >= kMaxPending) {
    ++dropped_;
    return;
  }
  pending_.devices.emplace_back(std::string(instance_id), t);
}

void TraceDisk::message(std::string_view instance_id, const MessageTrace& t) {
  std::lock_guard lk(mu_);
  if (pending_.size() >= kMaxPending) {
    ++dropped_;
    return;
  }
  pending_.messages.emplace_back(std::string(instance_id), t);
}

void TraceDisk::drop_instance(std::string_view instance_id) {
  std::lock_guard lk(mu_);
  // After the instance's queued events, so none of them comes back.
  pending_.dropped_instances.emplace_back(instance_id);
}

uint64_t TraceDisk::dropped() const {
  std::lock_guard lk(mu_);
  return dropped_;
}

void TraceDisk::run() {
  for (;;) {
    Pending batch;
    bool stopping = false;
    {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(200), [this] { return stop_; });
      std::swap(batch, pending_);
      stopping = stop_;
    }
    write(batch);
    if (stopping) return;
  }
}

void TraceDisk::flush() {
  Pending batch;
  {
    std::lock_guard lk(mu_);
    std::swap(batch, pending_);
  }
  write(batch);
}

void TraceDisk::write(Pending& p) {
  std::lock_guard lk(db_mu_);
  try {
    if (p.size()) {
      db_->begin_write();
      auto d = db_->prepare("INSERT INTO device_traces VALUES (?, ?, ?, ?, ?, ?, ?)");
      for (const auto& [inst, t] : p.devices)
        d.reset().bind(1, inst).bind(2, t.time_ms).bind(3, t.client_id).bind(4, t.action).bind(5, t.reason)
            .bind(6, t.channel_id).bind(7, t.remote_ip).run();
      auto m = db_->prepare("INSERT INTO message_traces VALUES (?, ?, ?, ?, ?, ?, ?)");
      for (const auto& [inst, t] : p.messages)
        m.reset().bind(1, inst).bind(2, t.time_ms).bind(3, t.msg_id).bind(4, t.topic).bind(5, t.client_id)
            .bind(6, t.action).bind(7, static_cast<int64_t>(t.qos)).run();
      for (const auto& inst : p.dropped_instances) {
        db_->prepare("DELETE FROM device_traces WHERE instance_id = ?").bind(1, inst).run();
        db_->prepare("DELETE FROM message_traces WHERE instance_id = ?").bind(1, inst).run();
      }
      db_->commit();
    }
    if (wall_ms() - last_prune_ms_ >= kPruneEveryMs) prune();
  } catch (const std::exception& e) {
    db_->rollback();
    log::warn("traces: {} events not written to {}: {}", p.size(), db_->path(), e.what());
  }
}

// Older than the retention, then beyond each table's row bound (oldest first).
void TraceDisk::prune() {
  last_prune_ms_ = wall_ms();
  const int64_t cutoff = last_prune_ms_ - limits_.max_age_ms;
  db_->begin_write();
  try {
    for (const char* t : {"device_traces", "message_traces"}) {
      db_->prepare(std::string("DELETE FROM ") + t + " WHERE time_ms < ?").bind(1, cutoff).run();
      const int64_t cap = std::string_view(t) == "device_traces" ? limits_.max_device_rows : limits_.max_message_rows;
      db_->prepare(std::string("DELETE FROM ") + t + " WHERE rowid <= (SELECT MAX(rowid) FROM " + t + ") - ?")
          .bind(1, cap)
          .run();
    }
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
}

void TraceDisk::load(const std::function<void(const std::string&, DeviceTrace)>& dev,
                     const std::function<void(const std::string&, MessageTrace)>& msg) {
  std::lock_guard lk(db_mu_);
  const int64_t cutoff = wall_ms() - limits_.max_age_ms;
  auto d = db_->prepare(
      "SELECT instance_id, time_ms, client_id, action, reason, channel_id, remote_ip FROM device_traces "
      "WHERE time_ms >= ? ORDER BY rowid");
  d.bind(1, cutoff);
  while (d.step())
    dev(d.text(0), DeviceTrace{d.int64(1), d.text(2), d.text(3), d.text(4), d.text(5), d.text(6)});
  auto m = db_->prepare(
      "SELECT instance_id, time_ms, msg_id, topic, client_id, action, qos FROM message_traces "
      "WHERE time_ms >= ? ORDER BY rowid");
  m.bind(1, cutoff);
  while (m.step())
    msg(m.text(0), MessageTrace{m.int64(1), m.text(2), m.text(3), m.text(4), m.text(5),
                                static_cast<uint8_t>(m.int64(6))});
}

}  // namespace sluice::mq
