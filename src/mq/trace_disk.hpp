#pragma once
// Traces on disk (issue 21): `<data-dir>/traces.db`, an SQLite file of this node's
// own, so traces outlive a restart for the cloud's retention (3 days).
//
// Why a file of its own and not the control store: traces are written on the
// message path (a device trace per connect, a message trace per publish and per
// delivery when an instance turns them on) and are this node's record, not shared
// state; in the control store they would contend with every management write
// (and, on PostgreSQL, cross the network for each batch) and flood its change
// feed. A lost trace file costs history, never correctness.
//
// Writes are queued in memory and a writer thread applies them every 200 ms in one
// transaction; the queue is bounded (beyond kMaxPending events, new events are
// dropped and counted). Rows older than the retention are deleted, and each table
// is capped at its row bound (oldest first), so the file stays bounded in size.
// Implemented in trace.cpp, beside the in-memory TraceStore that feeds it.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mq/trace.hpp"

namespace sluice::store {
class Db;
}

namespace sluice::mq {

struct TraceDiskLimits {
  int64_t max_age_ms = 3LL * 24 * 3600 * 1000;  // the cloud keeps traces 3 days
  int64_t max_device_rows = 1000000;             // whole file, all instances
  int64_t max_message_rows = 2000000;
};

class TraceDisk {
 public:
  // Opens (creating, mode 0600) the file and starts the writer; throws on an
  // unusable file.
  TraceDisk(const std::string& path, TraceDiskLimits limits);
  ~TraceDisk();  // flushes what is queued
  TraceDisk(const TraceDisk&) = delete;
  TraceDisk& operator=(const TraceDisk&) = delete;

  void device(std::string_view instance_id, const DeviceTrace& t);
  void message(std::string_view instance_id, const MessageTrace& t);
  void drop_instance(std::string_view instance_id);

  // Every kept trace newer than the retention, oldest first (for start-up).
  void load(const std::function<void(const std::string&, DeviceTrace)>& dev,
            const std::function<void(const std::string&, MessageTrace)>& msg);
  // Writes what is queued now (tests, shutdown).
  void flush();
  uint64_t dropped() const;

 private:
  struct Pending {
    std::vector<std::pair<std::string, DeviceTrace>> devices;
    std::vector<std::pair<std::string, MessageTrace>> messages;
    std::vector<std::string> dropped_instances;
    size_t size() const { return devices.size() + messages.size() + dropped_instances.size(); }
  };
  static constexpr size_t kMaxPending = 100000;
  void run();
  void write(Pending& p);
  void prune();

  TraceDiskLimits limits_;
  std::unique_ptr<store::Db> db_;
  std::mutex db_mu_;  // the connection: writer thread, load, flush
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Pending pending_;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  int64_t last_prune_ms_ = 0;
  std::thread writer_;
};

}  // namespace sluice::mq
