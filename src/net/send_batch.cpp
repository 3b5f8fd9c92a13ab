#include "net/send_batch.hpp"

#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/log.hpp"

namespace sluice::net {

SendBatch::SendBatch() {
  auto ring = std::make_unique<io_uring>();
  const int rc = io_uring_queue_init(kEntries, ring.get(), 0);
  if (rc < 0) {
    log::info("io_uring unavailable ({}): sending to each socket on its own", strerror(-rc));
    return;
  }
  ring_ = ring.release();
}

SendBatch::~SendBatch() {
  if (ring_) give_up();
}

bool SendBatch::add(int fd, std::string_view bytes, uint32_t tag) {
  io_uring_sqe* sqe = queued_ < kEntries ? io_uring_get_sqe(ring_) : nullptr;
  if (!sqe) return false;
  io_uring_prep_send(sqe, fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  io_uring_sqe_set_data64(sqe, tag);
  tags_[queued_++] = tag;
  return true;
}

// Each send completes inside the submission (MSG_DONTWAIT on a non-blocking
// socket: EAGAIN rather than a poll armed for later), so every result is there
// when this returns; next_result() still waits, should a kernel defer one.
unsigned SendBatch::submit() {
  unsigned taken = 0;
  while (taken < queued_) {
    const int rc = io_uring_submit(ring_);
    if (rc == -EINTR) continue;
    if (rc <= 0) {
      log::warn("io_uring submission failed ({}): sending to each socket on its own from now",
                rc < 0 ? strerror(-rc) : "nothing taken");
      failed_ = true;
      return taken;
    }
    taken += unsigned(rc);
  }
  return taken;
}

void SendBatch::give_up() {
  io_uring_queue_exit(ring_);  // what was not taken is never submitted
  delete ring_;
  ring_ = nullptr;
}

SendBatch::Result SendBatch::next_result() {
  io_uring_cqe* cqe = nullptr;
  int rc;
  while ((rc = io_uring_wait_cqe(ring_, &cqe)) == -EINTR) {
  }
  if (rc < 0 || !cqe) return {0, -1, EIO};  // not reached with a working ring
  Result r{uint32_t(io_uring_cqe_get_data64(cqe)), cqe->res >= 0 ? long(cqe->res) : -1,
           cqe->res < 0 ? -cqe->res : 0};
  io_uring_cqe_seen(ring_, cqe);
  return r;
}

}  // namespace sluice::net
