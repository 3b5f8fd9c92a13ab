// The node's lease in PostgreSQL (pg_leases.hpp) and the connection it runs
// on (pg_link.hpp), against a throwaway PostgreSQL (store/pg_test_util.hpp;
// skipped when Debian's postgresql is not installed).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>

#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/pg_leases.hpp"
#include "cluster/pg_link.hpp"
#include "cluster/test_nats.hpp"
#include "store/pg_test_util.hpp"

namespace sluice::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using store::testing::TestPostgres;

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// A socket that listens and never accepts: the kernel completes the TCP
// handshake and takes the startup packet, and no answer ever comes (a hung
// server; keepalives would find nothing wrong).
TEST(PgLink, AServerThatNeverAnswersIsGivenUpAtTheDeadline) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  PgLink link("host=127.0.0.1 port=" + std::to_string(ntohs(a.sin_port)) + " dbname=x user=x password=secret");
  const auto t0 = Clock::now();
  try {
    link.query("SELECT 1", {}, t0 + 500ms);
    ADD_FAILURE() << "a server that never answers answered";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no answer in time"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << "the password is never in a message";
  }
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 2s);
  EXPECT_FALSE(link.connected());
  ::close(fd);
}

TEST(PgLeases, EpochsExpiryAndRejoin) {
  auto& pg = TestPostgres::get();
  if (!pg.ok()) GTEST_SKIP() << pg.error();
  const std::string conn = pg.fresh_schema();
  PgLeases a(conn, "a", 3000);
  PgLeases b(conn, "b", 3000);
  EXPECT_EQ(a.epoch(), 1);
  EXPECT_EQ(b.epoch(), 1);
  EXPECT_TRUE(a.held());
  EXPECT_FALSE(b.expired("a"));
  EXPECT_FALSE(b.expired("nobody"));  // no row: no opinion
  a.start();
  b.start();
  // After a stop of service: held() only once the lease is taken again, with the next epoch.
  a.rejoin();
  EXPECT_FALSE(a.held());
  ASSERT_TRUE(wait_for([&] { return a.held(); }, 3s));
  EXPECT_EQ(a.epoch(), 2);
  ASSERT_TRUE(wait_for([&] { return b.peers().size() == 1; }, 3s));
  EXPECT_EQ(b.peers().front(), std::make_pair(std::string("a"), true));

  // a stops renewing: b finds its lease ran out, on PostgreSQL's clock, 5 s after its last renewal.
  a.stop();
  const auto t0 = Clock::now();
  ASSERT_TRUE(wait_for([&] { return b.expired("a"); }, 8s));
  EXPECT_GE(Clock::now() - t0, 3s) << "not before the lease (5 s) could have run out";
  EXPECT_EQ(b.peers().front(), std::make_pair(std::string("a"), false));

  // a comes back: the next epoch, alive to b at its next read.
  PgLeases a2(conn, "a", 3000);
  EXPECT_EQ(a2.epoch(), 3);
  EXPECT_TRUE(wait_for([&] { return !b.expired("a"); }, 3s));

  // Another process takes the name: a2's next renewal finds its epoch gone and lets go.
  a2.start();
  PgLeases a3(conn, "a", 3000);
  EXPECT_EQ(a3.epoch(), 4);
  EXPECT_TRUE(wait_for([&] { return a2.losses() == 1; }, 3s));
  EXPECT_EQ(a.losses(), 0u);
}

// Dead if either says so (NodeLeases::alive): a node that still beats on NATS
// but whose lease in PostgreSQL ran out is dead; alive again once it rejoins.
TEST(NodeLeases, ANodeWhoseLeaseRanOutIsDeadThoughItStillBeats) {
  auto& pg = TestPostgres::get();
  if (!pg.ok()) GTEST_SKIP() << pg.error();
  testing::TestNats nats;
  NatsOptions oa;
  oa.urls = nats.urls();
  oa.name = "a";
  NatsOptions ob = oa;
  ob.name = "b";
  NatsLink la(oa), lb(ob);
  const std::string conn = pg.fresh_schema();
  PgLeases pa(conn, "a", 3000);  // never renewed: its lease runs out 5 s on
  PgLeases pb(conn, "b", 3000);
  pb.start();
  NodeLeases na(la, "a"), nb(lb, "b");
  nb.set_pg(&pb);
  na.start();
  nb.start();
  EXPECT_TRUE(nb.alive("a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(NodeLeases::kExpireMs + 200));
  EXPECT_TRUE(nb.alive("a")) << "heard on NATS, its lease still running";
  ASSERT_TRUE(wait_for([&] { return pb.expired("a"); }, 8s));
  EXPECT_FALSE(nb.alive("a")) << "its heartbeat goes on, its lease ran out";
  EXPECT_FALSE(nb.alive("c")) << "no row and no heartbeat";
  PgLeases pa2(conn, "a", 3000);
  pa2.start();
  EXPECT_TRUE(wait_for([&] { return nb.alive("a"); }, 3s)) << "rejoined";
  nb.stop();
  na.stop();
}

}  // namespace
}  // namespace sluice::cluster
