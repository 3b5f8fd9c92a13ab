// sluice-null-broker-uring: null_broker.cpp on io_uring instead of epoll, to measure
// whether io_uring lowers the I/O floor (docs/benchmarks.md: at these loads it does
// not). Multishot accept, multishot recv into a provided-buffer ring, one send per
// subscriber per loop iteration, and one io_uring_enter per iteration that both
// submits and waits (DEFER_TASKRUN; NO_DEFER=1 in the environment turns that off).
// The same MQTT subset as null_broker.cpp (null_broker.hpp). Built only where liburing-dev is installed.
//
//   sluice-null-broker-uring PORT
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "null_broker.hpp"

namespace {
struct Conn {
  int fd;
  std::string in, out, sending;
  bool subscriber = false, dirty = false, in_flight = false;
};
floor_bench::NullBroker<Conn> nb;
io_uring ring;
constexpr unsigned kBufs = 256, kBufSize = 16384;
constexpr int kGroup = 1;
io_uring_buf_ring* br;
char* bufmem;
int lfd;

enum : uint64_t { kAccept = 1, kRecv = 2, kSend = 3 };
uint64_t tag(uint64_t kind, int fd) { return kind << 32 | uint32_t(fd); }

io_uring_sqe* sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring);
  if (!s) { io_uring_submit(&ring); s = io_uring_get_sqe(&ring); }
  return s;
}
void arm_recv(int fd) {
  io_uring_sqe* s = sqe();
  io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = kGroup;
  io_uring_sqe_set_data64(s, tag(kRecv, fd));
}
void arm_accept() {
  io_uring_sqe* s = sqe();
  io_uring_prep_multishot_accept(s, lfd, nullptr, nullptr, 0);
  io_uring_sqe_set_data64(s, tag(kAccept, lfd));
}
// A send still in flight reads from c.sending: that buffer outlives the connection
// (benchmarks only, a few per run). shutdown() ends the armed multishot recv, which
// holds its own reference to the socket.
std::vector<std::string> graveyard;
void drop(int fd) {
  auto it = nb.conns.find(fd);
  if (it == nb.conns.end()) return;
  if (it->second.in_flight) graveyard.push_back(std::move(it->second.sending));
  ::shutdown(fd, SHUT_RDWR);
  nb.drop(fd);
}
void start_send(Conn& c) {
  c.sending.swap(c.out);
  c.out.clear();
  c.in_flight = true;
  io_uring_sqe* s = sqe();
  io_uring_prep_send(s, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(s, tag(kSend, c.fd));
}
}  // namespace

int main(int argc, char** argv) {
  lfd = floor_bench::listen_from_args(argc, argv, 0);
  const int one = 1;
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN;
  if (getenv("NO_DEFER")) params.flags = 0;
  if (int r = io_uring_queue_init_params(1024, &ring, &params); r < 0) { fprintf(stderr, "init %s\n", strerror(-r)); return 1; }
  br = (io_uring_buf_ring*)mmap(nullptr, kBufs * sizeof(io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  io_uring_buf_reg reg{};
  reg.ring_addr = (uint64_t)br;
  reg.ring_entries = kBufs;
  reg.bgid = kGroup;
  if (int r = io_uring_register_buf_ring(&ring, &reg, 0); r < 0) { fprintf(stderr, "bufring %s\n", strerror(-r)); return 1; }
  io_uring_buf_ring_init(br);
  bufmem = (char*)malloc(size_t(kBufs) * kBufSize);
  for (unsigned i = 0; i < kBufs; ++i) io_uring_buf_ring_add(br, bufmem + size_t(i) * kBufSize, kBufSize, i, io_uring_buf_ring_mask(kBufs), i);
  io_uring_buf_ring_advance(br, kBufs);
  arm_accept();
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    io_uring_cqe* cqe;
    unsigned head, seen = 0, returned = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const uint64_t d = cqe->user_data;
      const int fd = int(uint32_t(d));
      switch (d >> 32) {
        case kAccept:
          if (cqe->res >= 0) {
            ::setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            nb.conns.emplace(cqe->res, Conn{cqe->res, {}, {}, {}});
            arm_recv(cqe->res);
          }
          if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept();
          break;
        case kRecv: {
          auto it = nb.conns.find(fd);
          if (cqe->flags & IORING_CQE_F_BUFFER) {
            const unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            if (cqe->res > 0 && it != nb.conns.end()) it->second.in.append(bufmem + size_t(bid) * kBufSize, size_t(cqe->res));
            io_uring_buf_ring_add(br, bufmem + size_t(bid) * kBufSize, kBufSize, bid, io_uring_buf_ring_mask(kBufs), returned++);
          }
          if (it == nb.conns.end()) break;
          if (cqe->res <= 0 && cqe->res != -ENOBUFS) { drop(fd); break; }
          if (cqe->res > 0 && !nb.handle(it->second)) { drop(fd); break; }
          if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(fd);
          break;
        }
        case kSend: {
          auto it = nb.conns.find(fd);
          if (it == nb.conns.end()) break;
          Conn& c = it->second;
          c.in_flight = false;
          if (cqe->res > 0) c.sending.erase(0, size_t(cqe->res));
          if (!c.sending.empty()) { c.out.insert(0, c.sending); c.sending.clear(); }
          if (!c.out.empty()) nb.queue(c, {});
          break;
        }
      }
    }
    if (returned) io_uring_buf_ring_advance(br, int(returned));
    io_uring_cq_advance(&ring, seen);
    static std::vector<Conn*> flushing;  // swapped with dirty: both keep their capacity
    flushing.clear();
    flushing.swap(nb.dirty);
    for (Conn* c : flushing) {
      c->dirty = false;
      if (c->in_flight) { c->dirty = true; nb.dirty.push_back(c); continue; }  // after its completion
      start_send(*c);
    }
  }
}
