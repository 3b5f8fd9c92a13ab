// Many sockets' output in one submission (net/send_batch.hpp): each result is
// what send() would have said, for sockets that take it all, a full one, a
// closed one, and more sends than one batch holds.
#include "net/send_batch.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace sluice::net {
namespace {

struct Pair {
  int fd[2] = {-1, -1};
  Pair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0); }
  ~Pair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  std::string drain() {
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd[1], buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
    return got;
  }
};

struct Outcome {
  uint32_t tag;
  long n;
  int err;
};

std::vector<Outcome> run(SendBatch& b) {
  std::vector<Outcome> out;
  b.run([&](uint32_t tag, long n, int err) { out.push_back({tag, n, err}); });
  return out;
}

TEST(SendBatch, EachSocketGetsItsBytesAndEachResultItsTag) {
  SendBatch b;
  if (!b.ready()) GTEST_SKIP() << "io_uring refused by this kernel";
  std::vector<Pair> pairs(10);
  std::vector<std::string> msgs;
  for (int i = 0; i < 10; ++i) msgs.push_back("message " + std::to_string(i));
  for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(b.add(pairs[i].fd[0], msgs[i], 100 + i));
  EXPECT_EQ(b.size(), 10u);
  auto out = run(b);
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(b.size(), 0u);
  for (const Outcome& o : out) {
    ASSERT_GE(o.tag, 100u);
    const uint32_t i = o.tag - 100;
    EXPECT_EQ(o.n, long(msgs[i].size()));
    EXPECT_EQ(pairs[i].drain(), msgs[i]);
  }
}

TEST(SendBatch, FullSocketSaysEagainAndClosedPeerSaysEpipe) {
  SendBatch b;
  if (!b.ready()) GTEST_SKIP() << "io_uring refused by this kernel";
  Pair full, closed, fine;
  const std::string chunk(65536, 'x');
  while (::send(full.fd[0], chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
  }
  ::close(closed.fd[1]);
  closed.fd[1] = -1;
  ASSERT_TRUE(b.add(full.fd[0], "more", 1));
  ASSERT_TRUE(b.add(closed.fd[0], "gone", 2));
  ASSERT_TRUE(b.add(fine.fd[0], "ok", 3));
  auto out = run(b);  // returns: a full socket never blocks the batch
  ASSERT_EQ(out.size(), 3u);
  for (const Outcome& o : out) {
    if (o.tag == 1) {
      EXPECT_TRUE(o.n < 0 && (o.err == EAGAIN || o.err == EWOULDBLOCK)) << o.n << " " << o.err;
    } else if (o.tag == 2) {
      EXPECT_TRUE(o.n < 0 && o.err == EPIPE) << o.n << " " << o.err;
    } else {
      EXPECT_EQ(o.n, 2);
    }
  }
  EXPECT_EQ(fine.drain(), "ok");
}

TEST(SendBatch, HoldsAtMostOneRingAndIsReusable) {
  SendBatch b;
  if (!b.ready()) GTEST_SKIP() << "io_uring refused by this kernel";
  Pair p;
  unsigned added = 0;
  while (b.add(p.fd[0], "a", added)) ++added;
  EXPECT_EQ(added, SendBatch::kEntries);
  EXPECT_EQ(run(b).size(), SendBatch::kEntries);
  EXPECT_EQ(p.drain(), std::string(SendBatch::kEntries, 'a'));
  ASSERT_TRUE(b.add(p.fd[0], "again", 7));  // the ring is free again
  auto out = run(b);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].n, 5);
  EXPECT_EQ(p.drain(), "again");
}

}  // namespace
}  // namespace sluice::net
