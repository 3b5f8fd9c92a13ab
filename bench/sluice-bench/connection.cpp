#include "connection.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "clock.hpp"

namespace sbench {

bool make_addr(const std::string& ip, uint16_t port, sockaddr_in& out) {
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  return inet_pton(AF_INET, ip.c_str(), &out.sin_addr) == 1;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::open(int epfd, const sockaddr_in& dst, const sockaddr_in* src) {
  epfd_ = epfd;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::strerror(errno);
    return false;
  }
  int one = 1;
  // Small packets must leave at once, or Nagle adds tens of ms to every latency sample.
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (src) {
    // Let connect() pick the port per 4-tuple instead of bind() reserving one per
    // source address: the same source can then reach many destinations.
    setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(src), sizeof *src) != 0) {
      error_ = std::string("bind: ") + std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
      return false;
    }
  }
  int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
  if (rc != 0 && errno != EINPROGRESS) {
    error_ = std::string("connect: ") + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;  // EPOLLOUT reports the end of the connect
  ev.data.ptr = this;
  want_write_ = true;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd_, &ev) != 0) {
    error_ = std::string("epoll_ctl: ") + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

void Connection::close(const char* why) {
  if (fd_ < 0) return;
  ::close(fd_);  // also removes it from the epoll set
  fd_ = -1;
  connected_ = false;
  handler_.on_close(*this, why);
}

void Connection::want_write(bool on) {
  if (on == want_write_ || fd_ < 0) return;
  want_write_ = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = this;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, fd_, &ev);
}

void Connection::on_events(uint32_t events) {
  if (fd_ < 0) return;
  if (!connected_) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        error_ = std::string("connect: ") + std::strerror(err);
        close("connect failed");
        return;
      }
      connected_ = true;
      handler_.on_open(*this);
      if (fd_ < 0) return;
      if (!flush()) return;
    }
    return;
  }
  if (events & EPOLLIN) {
    on_readable();
    if (fd_ < 0) return;
  }
  if (events & EPOLLOUT) on_writable();
  else if (events & (EPOLLERR | EPOLLHUP)) close("socket error");
}

void Connection::on_readable() {
  // One recv per event (level-triggered): a flooded subscriber cannot starve
  // the publishers sharing its thread.
  const size_t low = std::min<size_t>(4096, in_.size() / 2);
  if (in_.size() - in_end_ < low) {
    if (in_start_ > 0) {
      std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
      in_end_ -= in_start_;
      in_start_ = 0;
    }
    if (in_.size() - in_end_ < low) in_.resize(in_.size() * 2);
  }
  ssize_t n = ::recv(fd_, in_.data() + in_end_, in_.size() - in_end_, 0);
  if (n > 0) {
    in_end_ += size_t(n);
    parse_buffered();
  } else if (n == 0) {
    error_ = "closed by broker";
    close("closed by broker");
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    error_ = std::string("recv: ") + std::strerror(errno);
    close("recv failed");
  }
}

void Connection::parse_buffered() {
  while (in_start_ < in_end_ && fd_ >= 0) {
    std::span<const uint8_t> avail(in_.data() + in_start_, in_end_ - in_start_);
    auto r = parser_.parse(avail, packet_);
    if (r.status == sluice::mqtt::ParseStatus::NeedMore) break;
    if (r.status == sluice::mqtt::ParseStatus::Error) {
      error_ = std::string("bad packet from broker: ") + (r.detail ? r.detail : "?");
      close("bad packet from broker");
      return;
    }
    in_start_ += r.consumed;
    handler_.on_packet(*this, packet_);
  }
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
}

std::string& Connection::out() {
  if (out_off_ > 65536 && out_off_ * 2 > out_.size()) {  // drop what was sent, now and then
    out_.erase(0, out_off_);
    out_off_ = 0;
  }
  if (!dirty_listed_) {
    dirty_listed_ = true;
    dirty_.push_back(this);
  }
  return out_;
}

bool Connection::flush() {
  dirty_listed_ = false;
  if (fd_ < 0) return false;
  if (!connected_) return true;  // CONNECT may be queued before the TCP handshake ends
  while (out_off_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
    if (n > 0) {
      out_off_ += size_t(n);
      last_write_ns_ = now_ns();
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      want_write(true);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    error_ = std::string("send: ") + std::strerror(errno);
    close("send failed");
    return false;
  }
  out_.clear();
  out_off_ = 0;
  want_write(false);
  return true;
}

void Connection::on_writable() { flush(); }

}  // namespace sbench
