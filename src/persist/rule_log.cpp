#include "persist/rule_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/log.hpp"
#include "persist/message_codec.hpp"

namespace sluice::persist {

namespace {

constexpr size_t kHeader = 8;  // u32 body length, u32 checksum of the body
constexpr uint32_t kMaxBody = 64u << 20;

// A checksum against torn and damaged writes (not an adversary): eight bytes
// a step, multiply and fold (a byte at a time was a quarter of the writer's
// instructions per entry).
// The value is fixed (records on disk carry it; test RecordsOfEarlierVersionsAreReadBack).
// Per 8 bytes ~8 instructions; unrolled by two (~6), and the last 1-7 bytes
// read as the 8 ending at them, shifted down, not copied a byte at a time
// (~40 instructions of a ~200 per QoS 1 rule entry, issue 19).
uint32_t checksum(const char* p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  const size_t total = n;
#pragma GCC unroll 2
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  if (std::endian::native == std::endian::little && n != 0 && total >= 8) {
    std::memcpy(&w, p + n - 8, 8);  // within the body: it is at least 8 bytes long
    w >>= (8 - n) * 8;              // its last n bytes, in the low end: what the copy gives
  } else {
    std::memcpy(&w, p, n);
  }
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  return static_cast<uint32_t>(h ^ (h >> 29));
}

// Little-endian on disk; the host's own order (one move, not a byte loop) where it is that.
template <class T>
T to_le(T v) {
  if constexpr (std::endian::native == std::endian::little) return v;
  else if constexpr (sizeof v == 8) return __builtin_bswap64(v);
  else return __builtin_bswap32(v);
}
template <class T>
void put_le(char* p, T v) {
  v = to_le(v);
  std::memcpy(p, &v, sizeof v);
}
template <class T>
T get_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return to_le(v);
}
void put32(char* p, uint32_t v) { put_le(p, v); }
uint32_t get32(const char* p) { return get_le<uint32_t>(p); }
uint64_t get64(const char* p) { return get_le<uint64_t>(p); }

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

RuleLog::RuleLog(std::string path, RuleLogOptions opts) : path_(std::move(path)), opts_(opts) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path_ + ": " + std::strerror(errno));
  // Payloads in plain text, as broker.db: only the owner reads them, whatever
  // mode an older copy or an operator left (the databases are tightened the same way).
  if (struct stat st {}; ::fstat(fd_, &st) == 0 && (st.st_mode & 077) != 0 && ::fchmod(fd_, 0600) == 0)
    log::warn("tightened to mode 0600: {} (was {:o})", path_, st.st_mode & 0777);
  try {
    read_back();
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

RuleLog::~RuleLog() {
  if (fd_ >= 0) ::close(fd_);
}

void RuleLog::read_back() {
  struct stat st{};
  if (::fstat(fd_, &st) != 0) throw std::runtime_error("cannot stat " + path_);
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  size_t pos = 0;
  while (pos + kHeader <= data.size()) {
    const uint32_t len = get32(data.data() + pos);
    if (len < 9 || len > kMaxBody || pos + kHeader + len > data.size()) break;
    const char* body = data.data() + pos + kHeader;
    if (checksum(body, len) != get32(data.data() + pos + 4)) break;
    const char kind = body[0];
    const uint64_t seq = get64(body + 1);
    const auto rec = static_cast<uint32_t>(kHeader + len);
    if (kind == 'Q') {
      if (len < 11) break;
      const size_t rlen = static_cast<unsigned char>(body[9]) | (size_t(static_cast<unsigned char>(body[10])) << 8);
      if (11 + rlen > len) break;
      live_.add(seq, Loc{pos, rec});
      live_bytes_ += rec;
      recovered_[seq] = {std::string(body + 11, rlen), std::string(body + 11 + rlen, len - 11 - rlen)};
    } else if (kind == 'D' || kind == 'M') {
      if (kind == 'M' && (len - 1) % 8 != 0) break;
      for (size_t at = 1; at + 8 <= len; at += 8) {
        const uint64_t s = get64(body + at);
        if (uint32_t gone = 0; live_.remove(s, gone)) live_bytes_ -= gone;
        recovered_.erase(s);
        if (kind == 'D') break;
      }
    } else if (kind != 'F') {
      break;
    }
    max_seq_ = std::max(max_seq_, seq);
    pos += rec;
  }
  if (pos < static_cast<size_t>(st.st_size)) {
    log::warn("rules log {}: {} damaged bytes at the end cut (a write cut short by a crash)", path_,
              static_cast<size_t>(st.st_size) - pos);
    if (::ftruncate(fd_, static_cast<off_t>(pos)) != 0) throw std::runtime_error("cannot cut " + path_);
  }
  size_ = pos;
}

std::vector<broker::RecoveredRuleEntry> RuleLog::take_recovered(int64_t wall_now, int64_t mono_now) {
  std::vector<broker::RecoveredRuleEntry> out;
  out.reserve(recovered_.size());
  for (auto& [seq, e] : recovered_) {
    broker::RecoveredRuleEntry r;
    r.seq = seq;
    r.rule = std::move(e.first);
    r.message = decode_message(e.second, wall_now, mono_now);
    if (r.message) {
      out.push_back(std::move(r));
    } else if (uint32_t gone = 0; live_.remove(seq, gone)) {  // undecodable: dropped, and left out of compactions
      live_bytes_ -= gone;
    }
  }
  recovered_.clear();
  return out;
}

void RuleLog::frame(char kind, uint64_t seq) {
  char head[kHeader + 9] = {};
  head[kHeader] = kind;
  put_le(head + kHeader + 1, seq);
  buf_.append(std::string_view(head, sizeof head));
}

void RuleLog::seal(size_t start) {
  const size_t len = buf_.size() - start - kHeader;
  put32(buf_.data() + start, static_cast<uint32_t>(len));
  put32(buf_.data() + start + 4, checksum(buf_.data() + start + kHeader, len));
}

// The record written in place in one growth of buf_ (nothing zeroed first).
void RuleLog::queued(uint64_t seq, std::string_view rule, const broker::Message& m) {
  const size_t start = buf_.size();
  const size_t rlen = std::min<size_t>(rule.size(), 0xffff);
  const size_t plain = plain_message_size(m);
  std::string other;  // a message with MQTT 5 properties (rare): encoded apart, then copied
  if (plain == 0) append_message(other, m);
  const size_t mlen = plain != 0 ? plain : other.size();
  char* p = buf_.room(kHeader + 11 + rlen + mlen);
  std::memset(p, 0, kHeader);  // filled in by seal()
  p[kHeader] = 'Q';
  put_le(p + kHeader + 1, seq);
  p[kHeader + 9] = static_cast<char>(rlen & 0xff);
  p[kHeader + 10] = static_cast<char>(rlen >> 8);
  std::memcpy(p + kHeader + 11, rule.data(), rlen);
  char* q = p + kHeader + 11 + rlen;
  if (plain != 0) {
    q = write_plain_message(q, m);
  } else {
    std::memcpy(q, other.data(), mlen);
    q += mlen;
  }
  buf_.commit(q);
  seal(start);
  const auto rec = static_cast<uint32_t>(buf_.size() - start);
  live_.add(seq, Loc{size_ + start, rec});
  live_bytes_ += rec;
  added_.push_back(seq);
  max_seq_ = std::max(max_seq_, seq);
}

bool RuleLog::done(uint64_t seq) {
  uint32_t gone = 0;
  if (!live_.remove(seq, gone)) return false;
  live_bytes_ -= gone;
  const size_t start = buf_.size();
  frame('D', seq);
  seal(start);
  return true;
}

std::vector<uint64_t> RuleLog::done_all(const std::vector<uint64_t>& seqs) {
  std::vector<uint64_t> unknown;
  size_t start = std::string::npos;
  for (uint64_t seq : seqs) {
    uint32_t gone = 0;
    if (!live_.remove(seq, gone)) {
      unknown.push_back(seq);
      continue;
    }
    live_bytes_ -= gone;
    if (start == std::string::npos) {
      start = buf_.size();
      frame('M', seq);
    } else {
      char b[8];
      put_le(b, seq);
      buf_.append(std::string_view(b, sizeof b));
    }
  }
  if (start != std::string::npos) seal(start);
  return unknown;
}

bool RuleLog::write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool RuleLog::flush() {
  if (buf_.empty()) return true;
  bool ok = write_all(fd_, buf_.data(), buf_.size());
  if (ok) {
    size_ += buf_.size();
  } else {
    // Cut back to what was whole; the entries of this write are not recorded
    // (their acknowledgements go out anyway, as for a failed SQLite commit).
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) log::warn("rules log {}: cannot cut a failed write", path_);
    for (uint64_t seq : added_)
      if (uint32_t gone = 0; live_.remove(seq, gone)) live_bytes_ -= gone;
  }
  buf_.clear();
  added_.clear();
  if (!ok) return false;
  if (live_.empty() && size_ >= opts_.empty_at) return empty_out();
  if (size_ >= opts_.compact_at && live_bytes_ * 2 <= size_) return compact();
  return true;
}

bool RuleLog::sync() {
  std::lock_guard lk(fd_mu_);
  return ::fdatasync(fd_) == 0;
}

// Nothing outstanding: the file becomes one floor record, synced at once (it
// carries the highest seq, which the next start's tickets must stay above).
bool RuleLog::empty_out() {
  frame('F', max_seq_);
  seal(0);
  std::lock_guard lk(fd_mu_);
  const bool ok = ::ftruncate(fd_, 0) == 0 && write_all(fd_, buf_.data(), buf_.size()) && ::fdatasync(fd_) == 0;
  size_ = ok ? buf_.size() : 0;
  buf_.clear();
  if (!ok) log::warn("rules log {}: emptying failed", path_);
  return ok;
}

// Mostly done: the outstanding records are copied into a new file (a floor
// first), synced, and renamed over the old one; the directory is synced so the
// rename holds before anything else is written to the new file.
bool RuleLog::compact() {
  const std::string tmp = path_ + ".tmp";
  const int nfd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (nfd < 0) return false;
  std::vector<std::pair<uint64_t, Loc*>> order;
  order.reserve(live_.size());
  live_.for_each([&](uint64_t seq, Loc& loc) { order.emplace_back(seq, &loc); });  // in seq order
  frame('F', max_seq_);
  seal(0);
  std::string out(buf_.view());
  buf_.clear();
  bool ok = true;
  std::string rec;
  std::vector<uint64_t> offsets;  // in the new file, applied only once it replaced the old one
  offsets.reserve(order.size());
  for (auto& [seq, loc] : order) {
    rec.resize(loc->length);
    if (::pread(fd_, rec.data(), rec.size(), static_cast<off_t>(loc->offset)) != static_cast<ssize_t>(rec.size())) {
      ok = false;
      break;
    }
    offsets.push_back(out.size());
    out += rec;
  }
  ok = ok && write_all(nfd, out.data(), out.size()) && ::fdatasync(nfd) == 0 &&
       ::rename(tmp.c_str(), path_.c_str()) == 0;
  if (ok) {
    const int dfd = ::open(dir_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    for (size_t i = 0; i < order.size(); ++i) order[i].second->offset = offsets[i];
    std::lock_guard lk(fd_mu_);
    ::close(fd_);
    fd_ = nfd;
    size_ = out.size();
    return true;
  }
  // The old file is whole and stays; the next compaction tries again.
  ::close(nfd);
  ::unlink(tmp.c_str());
  log::warn("rules log {}: compaction failed; the file stays as it is", path_);
  return false;
}

}  // namespace sluice::persist
