#pragma once
// Small POSIX socket helpers.
#include <string>

struct sockaddr;

namespace sluice::net {

// A non-blocking listening socket on host:port with SO_REUSEPORT, so that each
// event loop can own one and the kernel spreads connections over them.
// Throws std::runtime_error with the reason on failure.
int listen_socket(const std::string& host, int port, int backlog = 4096);

void set_nonblocking(int fd);
void set_nodelay(int fd);
// The peer's address as text, without the port.
std::string peer_address(int fd);
// The same with the port, "ip:port" ("[v6]:port"): the cloud's clientIp of status events (issue 19).
std::string peer_endpoint(int fd);
// The port a socket is bound to (for port 0 listeners).
int local_port(int fd);
// The connect rate limiter's key: the raw address bytes (4 for IPv4, 16 for
// IPv6, port left out); "" for other families (one shared bucket).
std::string source_key(const sockaddr* a);

}  // namespace sluice::net
