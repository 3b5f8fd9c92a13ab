#pragma once
// The rules' backlog records (issue 19, docs/rules.md) in an append-only file
// beside broker.db (`<broker.db>-rules`), written by the broker store's writer
// in its batch and made durable in the same sync step as the batch's SQLite commit,
// before any acknowledgement waiting for them goes out.
//
// Why not a table: at a steady rate every QoS 1 message matching a rule was a
// SQLite transaction of its own (BEGIN, an INSERT, a COMMIT writing whole 4 KB
// pages into the WAL: ~13,000 instructions on the store's writer) and later a
// DELETE. Here an entry is one framed record in the batch's single write(),
// and a delivered batch one record of 8 bytes per entry. The file is emptied
// whenever nothing is outstanding (past `empty_at` bytes) and rewritten with
// only the outstanding entries when it grows past `compact_at` while mostly
// done, so it stays about the size of the backlogs.
//
// Record: u32 body length, u32 checksum of the body, then the body: u8 kind,
//   'Q' queued: u64 seq, u16 rule key length, rule key, the message (message_codec);
//   'D' done:   u64 seq;
//   'M' done:   u64 seq, then more u64 seqs (the entries one batch delivered: one
//               record and one checksum for all of them);
//   'F' floor:  u64 seq, the highest seq ever made (kept across an emptying, so
//               that the store's tickets never repeat after a restart: receivers
//               and JetStream de-duplicate by seq).
// A torn or damaged tail (a crash in the middle of a write) ends the reading;
// the file is cut there.
#include <unistd.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "broker/persistence.hpp"
#include "common/out_buffer.hpp"
#include "persist/live_index.hpp"

namespace sluice::persist {

struct RuleLogOptions {
  uint64_t empty_at = uint64_t(1) << 20;     // nothing outstanding and the file this big: emptied
  uint64_t compact_at = uint64_t(64) << 20;  // this big and at most half outstanding: rewritten
};

class RuleLog {
 public:
  // Opens or creates the file (mode 0600) and reads it back; throws std::runtime_error.
  explicit RuleLog(std::string path, RuleLogOptions opts = {});
  ~RuleLog();
  RuleLog(const RuleLog&) = delete;
  RuleLog& operator=(const RuleLog&) = delete;

  // The highest seq the file has seen (0: none).
  uint64_t max_seq() const { return max_seq_; }
  // The entries read back at open and not done, in seq order (once; empties it).
  std::vector<broker::RecoveredRuleEntry> take_recovered(int64_t wall_now, int64_t mono_now);

  // Writer thread: records added to the next flush.
  void queued(uint64_t seq, std::string_view rule, const broker::Message& m);
  // False if `seq` is not an outstanding entry of this file.
  bool done(uint64_t seq);
  // The same for several seqs, in one record; returns those it did not know.
  std::vector<uint64_t> done_all(const std::vector<uint64_t>& seqs);
  // Writer thread: writes what was added (one write()), then empties or
  // compacts the file when due. False on an I/O error (what was added is lost).
  bool flush();
  // Any thread: fdatasync of what was written. False on an error.
  bool sync();
  // The same on the writer's thread, the only one that swaps the descriptor
  // (compact()): no lock.
  bool sync_on_writer() { return ::fdatasync(fd_) == 0; }

  bool pending() const { return !buf_.empty(); }  // something for the next flush
  size_t outstanding() const { return live_.size(); }
  uint64_t file_bytes() const { return size_; }

 private:
  using Loc = LiveIndex::Loc;
  void read_back();
  void frame(char kind, uint64_t seq);     // starts a record in buf_
  void seal(size_t start);                 // fills in its header
  bool write_all(int fd, const char* p, size_t n);
  bool empty_out();
  bool compact();

  std::string path_;
  RuleLogOptions opts_;
  int fd_ = -1;
  std::mutex fd_mu_;  // fd_ swapped by compact() while the syncer may sync it
  uint64_t size_ = 0;
  uint64_t max_seq_ = 0;
  uint64_t live_bytes_ = 0;
  LiveIndex live_;                          // outstanding entries: where their records are
  common::OutBuffer buf_;                   // what the next flush writes
  std::vector<uint64_t> added_;             // seqs queued in buf_ (forgotten if the write fails)
  std::map<uint64_t, std::pair<std::string, std::string>> recovered_;  // seq -> rule, message bytes
};

}  // namespace sluice::persist
