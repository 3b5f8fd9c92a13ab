// sluice-bench: MQTT load generator for comparing brokers on one machine.
// See bench/README.md and docs/benchmarks.md.
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>

#include "conns.hpp"
#include "options.hpp"
#include "payload.hpp"
#include "proc_stats.hpp"
#include "pubsub.hpp"

int main(int argc, char** argv) {
  sbench::Options o;
  CLI::App app{
      "sluice-bench: MQTT load generator.\n"
      "  fanin     N publishers -> 1 subscriber (--pubs, default 4)\n"
      "  fanout    1 publisher -> M subscribers (--subs, default 100)\n"
      "  pairs     N one-to-one publisher/subscriber pairs (--pubs, default 10)\n"
      "  conns     open --conns idle connections and hold them --hold seconds\n"
      "  connrate  connect/CONNACK/disconnect cycles for --duration seconds\n"
      "Prints one 'RESULT key=value ...' line, then a summary. Exit 2 if QoS>=1 messages were lost."};
  app.add_option("scenario", o.scenario, "fanin | fanout | pairs | conns | connrate")
      ->required()
      ->check(CLI::IsMember({"fanin", "fanout", "pairs", "conns", "connrate"}));
  app.add_option("--host", o.host, "broker IPv4 address")->capture_default_str();
  app.add_option("-p,--port", o.port, "broker MQTT port")->capture_default_str();
  app.add_option("--protocol", o.protocol, "4 = MQTT 3.1.1, 5 = MQTT 5.0")
      ->check(CLI::IsMember({4, 5}))
      ->capture_default_str();
  app.add_option("-q,--qos", o.qos, "QoS of publishes and subscriptions")->check(CLI::Range(0, 2))->capture_default_str();
  app.add_option("--payload", o.payload, "payload bytes (at least 24: publisher, sequence, timestamp)")
      ->check(CLI::Range(size_t(sbench::PayloadHeader::kSize), size_t(256 * 1024 * 1024)))
      ->capture_default_str();
  app.add_option("--pubs", o.pubs, "publishers (fanin) or pairs (pairs)")->check(CLI::Range(1, 100000));
  app.add_option("--subs", o.subs, "subscribers (fanout)")->check(CLI::Range(1, 100000));
  app.add_option("-t,--threads", o.threads, "load threads, each with its own epoll loop")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("-r,--rate", o.rate, "publishes/s in total, paced; 0 = closed loop (max throughput)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("-w,--window", o.window,
                 "closed loop: messages per publisher sent but not yet delivered to its subscribers")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("--inflight", o.inflight,
                 "QoS>=1: publishes per publisher awaiting PUBACK/PUBCOMP (a v5 Receive Maximum lowers it)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("-d,--duration", o.duration, "measured seconds (connrate: cycling seconds)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "seconds of load before measuring")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--count", o.count, "stop after this many publishes in total (measures until all delivered)");
  app.add_option("--drain-timeout", o.drain_timeout, "seconds to wait for stragglers after publishing stops")
      ->capture_default_str();
  app.add_option("--broker-pid", o.broker_pid, "report this process's CPU time (pub/sub) or RSS (conns) over the run");
  app.add_option("--also-pid", o.more_pids, "pub/sub: add these processes' CPU time (a cluster's other nodes)");
  app.add_option("--sub-port", o.sub_port, "subscribers connect to this port (another node of a cluster; default --port)");
  app.add_option("--keepalive", o.keepalive, "MQTT keep alive seconds (0 = off)")->capture_default_str();
  app.add_option("--topic-prefix", o.topic_prefix, "topics are PREFIX/t or PREFIX/pair/N (default sb<pid>)");
  app.add_option("-u,--username", o.username, "CONNECT user name");
  app.add_option("-P,--password", o.password, "CONNECT password");
  app.add_option("--sign-secret", o.sign_secret,
                 "ApsaraMQ Signature/DeviceCredential mode: password = Base64(HMAC-SHA1(SECRET, client id)) per CONNECT");
  app.add_option("--client-id-prefix", o.client_id_prefix, "prepended to every client id (e.g. GID_bench@@@)");
  app.add_option("-n,--conns", o.conns, "conns: idle connections to open")->check(CLI::Range(1, 10000000))->capture_default_str();
  app.add_option("--hold", o.hold, "conns: seconds to hold them open")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_flag("--subscribe", o.subscribe, "conns: each connection also subscribes to a topic of its own (idle/<n>)");
  app.add_option("-c,--concurrency", o.concurrency,
                 "conns/connrate: handshakes in flight (default 32 / 8)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--per-source", o.per_source, "connections per 127.0.0.x source address before rotating")
      ->check(CLI::Range(1, 28000))
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "only the RESULT line");
  app.add_flag("--persistent-subs", o.persistent_subs,
               "subscribers connect with a persistent session (clean start off; v5: session expiry 1 h)");
  CLI11_PARSE(app, argc, argv);

  if (o.topic_prefix.empty()) o.topic_prefix = "sb" + std::to_string(getpid());
  std::signal(SIGPIPE, SIG_IGN);
  // Nanosecond timer slack: the pacer sleeps for tens of microseconds at a time
  // and the default 50 us slack would bunch sends together.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  // Every connection is a file descriptor; the soft limit (often 1024) is too low.
  uint64_t nofile = sbench::raise_nofile_limit();
  if (o.scenario == "conns" && uint64_t(o.conns) + 64 > nofile)
    std::fprintf(stderr, "sluice-bench: warning: --conns %d exceeds the file descriptor limit %llu; "
                 "connections past it will fail (EMFILE)\n", o.conns, (unsigned long long)nofile);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  if (o.scenario == "conns") return sbench::run_conns(o);
  if (o.scenario == "connrate") return sbench::run_connrate(o);
  return sbench::run_pubsub(o);
}
