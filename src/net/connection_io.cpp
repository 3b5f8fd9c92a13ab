// Connection: socket I/O, transports (TLS, WebSocket), output buffering, lifecycle.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "broker/stats.hpp"
#include "net/connection.hpp"
#include "common/log.hpp"
#include "net/server.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"
#include "net/websocket.hpp"

namespace sluice::net {

using broker::WorkerStats;

Connection::Connection(Worker& w, uint64_t id, int fd, Transport t)
    : Pollable(Kind::Connection), transport_(t), fd_(fd), w_(w), id_(id) {
  last_rx_ms_ = w.now_ms();
  parser_.set_max_packet_size(w.server().broker().defaults().max_packet_size);
  if (t != Transport::Tcp) layers_ = std::make_unique<Layers>();
  if (t == Transport::Tls || t == Transport::Wss) layers_->tls = std::make_unique<TlsSession>(*w.server().tls());
  if (t == Transport::Ws || t == Transport::Wss)
    layers_->ws = std::make_unique<WebSocketSession>(w.server().options().ws_path);
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

Connection::Layers::~Layers() = default;

void Connection::on_event(uint32_t events) {
  const bool awaiting_connect = state_ == State::AwaitConnect;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable();
  // CONNECT accepted (the only way to Connected; a close reports itself).
  if (awaiting_connect && state_ == State::Connected) w_.handshake_over(id_);
  if (state_ != State::Closed && (events & EPOLLOUT)) write_socket();
}

void Connection::on_readable() {
  std::string& buf = w_.read_buffer();
  // A few reads per wake-up at most, so one busy client cannot starve the loop.
  for (int i = 0; i < 4; ++i) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) {
      WorkerStats::add(w_.ctx().stats().bytes_in, static_cast<uint64_t>(n));
      last_rx_ms_ = w_.now_ms();
      on_bytes(std::string_view(buf.data(), static_cast<size_t>(n)));
      if (state_ == State::Closed || static_cast<size_t>(n) < buf.size()) return;
      continue;
    }
    if (n == 0) {
      close(mqtt::Reason::Success, "connection closed by peer");
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR) continue;
    close(mqtt::Reason::Success, strerror(errno));
    return;
  }
}

void Connection::on_bytes(std::string_view raw) {
  if (!layers_) {
    process(raw);
    return;
  }
  // Whatever arrived before a TLS close_notify or a WebSocket close frame is
  // processed first: a DISCONNECT followed by a close in one segment is a
  // normal disconnect, and a PUBLISH before it is delivered.
  std::string tls_plain;
  std::string_view data = raw;
  bool open = true;
  std::string why;
  TlsSession* tls_ = layers_->tls.get();
  WebSocketSession* ws_ = layers_->ws.get();
  if (tls_) {
    open = tls_->feed(raw, tls_plain, layers_->bytes);
    if (!layers_->bytes.empty()) queued_output();
    if (!open) {
      why = tls_->error();
      report_tls_refusal(*tls_, why);
    }
    data = tls_plain;
  }
  if (ws_ && !data.empty()) {
    std::string payload, reply;
    const bool ws_open = ws_->feed(data, payload, reply);
    if (!reply.empty() && state_ != State::Closed) {
      if (tls_) tls_->write(reply, layers_->bytes);
      else layers_->bytes += reply;
      queued_output();
    }
    process(payload);
    if (!ws_open && open) {
      open = false;
      why = ws_->error();
    }
  } else if (!ws_) {
    process(data);
  }
  if (!open && state_ != State::Closed) {
    write_socket();
    close(mqtt::Reason::Success, why);
  }
}

void Connection::report_tls_refusal(const TlsSession& tls, std::string_view why) {
  if (tls.handshake_done() || !w_.server().tls_refusal_reporter()) return;
  const std::string name = tls.server_name();
  if (!name.empty()) w_.server().tls_refusal_reporter()(name, peer_address(fd_), why);
}

void Connection::process(std::string_view data) {
  if (data.empty()) return;
  const bool buffered = in_ && !in_->empty();
  if (buffered) in_->append(data);
  std::string_view buf = buffered ? std::string_view(*in_) : data;
  size_t off = 0;
  struct PacketLease {
    Worker& w;
    mqtt::Packet* p = w.take_packet();
    std::optional<mqtt::Packet> own;
    explicit PacketLease(Worker& worker) : w(worker) {
      if (!p) p = &own.emplace();
    }
    ~PacketLease() {
      if (!own) w.release_packet();
    }
  } lease(w_);
  mqtt::Packet& pkt = *lease.p;
  while (state_ != State::Closed && off < buf.size()) {
    auto r = parser_.parse(buf.substr(off), pkt);
    if (r.status == mqtt::ParseStatus::NeedMore) break;
    if (r.status == mqtt::ParseStatus::Error) {
      WorkerStats::add(w_.ctx().stats().protocol_errors);
      fail(r.reason, r.detail ? r.detail : "malformed packet");
      return;
    }
    off += r.consumed;
    handle(pkt);
  }
  if (state_ == State::Closed) return;
  // Keep only the incomplete tail; idle connections hold no input buffer.
  if (buffered) {
    in_->erase(0, off);
    if (in_->empty() && in_->capacity() > 65536) in_.reset();
  } else if (off < buf.size()) {
    if (!in_) in_ = std::make_unique<std::string>();
    in_->assign(buf.substr(off));
  }
}

void Connection::queued_output() {
  if (!dirty && state_ != State::Closed) {
    dirty = true;
    w_.mark_dirty(this);
  }
}

void Connection::flush() {
  dirty = false;
  if (state_ != State::Closed) write_socket();
}

bool Connection::congested() const {
  if (pending_output() <= w_.server().options().out_high_water) return false;
  const_cast<Connection*>(this)->was_congested_ = true;
  return true;
}

// Layered transports (TLS, WebSocket) frame and encrypt everything encoded so
// far; returns the buffer the socket takes bytes from and its read offset.
std::pair<std::string*, size_t*> Connection::stage_output() {
  if (!layers_) return {&out_, &out_off_};
  if (out_.size() > out_off_) {
    std::string_view data(out_.data() + out_off_, out_.size() - out_off_);
    std::string framed;
    if (layers_->ws) {
      WebSocketSession::frame(data, framed);
      data = framed;
    }
    if (layers_->tls) {
      layers_->tls->write(data, layers_->bytes);
    } else {
      layers_->bytes.append(data);
    }
    out_.clear();
    out_off_ = 0;
  }
  return {&layers_->bytes, &layers_->off};
}

// What one send() returned (n bytes, or -1 and errno `err`): Sent (more may
// follow), Blocked (the socket is full) or Closed (the connection is gone).
Connection::SendOutcome Connection::sent(size_t& off, long n, int err) {
  if (n > 0) {
    off += static_cast<size_t>(n);
    WorkerStats::add(w_.ctx().stats().bytes_out, static_cast<uint64_t>(n));
    return SendOutcome::Sent;
  }
  if (n < 0 && err == EINTR) return SendOutcome::Sent;
  if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) return SendOutcome::Blocked;
  close(mqtt::Reason::Success, n < 0 ? strerror(err) : "write failed");
  return SendOutcome::Closed;
}

bool Connection::write_socket() {
  if (fd_ < 0) return false;
  auto [buf, off] = stage_output();
  while (*off < buf->size()) {
    const ssize_t n = ::send(fd_, buf->data() + *off, buf->size() - *off, MSG_NOSIGNAL);
    const SendOutcome o = sent(*off, n, n < 0 ? errno : 0);
    if (o == SendOutcome::Closed) return false;
    if (o == SendOutcome::Blocked) break;
  }
  after_write(*buf, *off);
  return true;
}

std::string_view Connection::begin_flush() {
  dirty = false;
  if (state_ == State::Closed || fd_ < 0) return {};
  auto [buf, off] = stage_output();
  return std::string_view(*buf).substr(*off);
}

void Connection::end_flush(long n, int err) {
  if (fd_ < 0) return;
  auto [buf, off] = stage_output();
  const SendOutcome o = sent(*off, n, err);
  if (o == SendOutcome::Closed) return;
  if (o == SendOutcome::Sent && *off < buf->size()) {
    write_socket();  // a partial send: go on as an unbatched flush would
    return;
  }
  after_write(*buf, *off);
}

// After sending: frees what was sent, asks epoll for writability while output
// remains, and lets a session that waited on a congested client send again.
void Connection::after_write(std::string& buf, size_t& off) {
  const bool rest = off < buf.size();
  if (!rest) {
    buf.clear();
    off = 0;
    if (buf.capacity() > (256u << 10)) std::string().swap(buf);  // give back burst memory
  } else if (off > (1u << 20)) {
    buf.erase(0, off);
    off = 0;
  }
  if (rest != want_write) w_.update_interest(this, rest);
  if (was_congested_ && !rest && session_) {
    was_congested_ = false;
    session_->pump(w_.ctx());  // the client reads again: send what waited
  }
}

void Connection::kick(mqtt::Reason reason) {
  Worker* w = &w_;
  const uint64_t id = id_;
  w_.server().post(w_.id(), [w, id, reason] {
    if (Connection* c = w->find(id)) c->close(reason, mqtt::reason_name(reason));
  });
}

void Connection::tick(int64_t now) {
  // Give back what a burst grew the buffers to once they are empty: an idle
  // connection should hold only its own object (up to 4 times a second a busy
  // one reallocates, nothing next to its writes).
  constexpr size_t kIdleKeep = 1024;
  if (out_.empty() && out_.capacity() > kIdleKeep) std::string().swap(out_);
  if (in_ && in_->empty()) in_.reset();  // allocated again at the next partial packet
  if (state_ == State::AwaitConnect) {
    if (now - w_.pending_since(id_) > int64_t(w_.server().options().connect_timeout_ms))
      close(mqtt::Reason::Success, "no CONNECT before the connect timeout");
    return;
  }
  if (state_ == State::Connected && keep_alive_ms_ != 0 &&
      now - last_rx_ms_ > int64_t(keep_alive_ms_) * 3 / 2)
    return close(mqtt::Reason::KeepAliveTimeout, "keep alive timeout");
  if (state_ != State::Connected) return;
  // An UpdateInstance may have changed the namespace's packet (payload) limit.
  parser_.set_max_packet_size(ns_->config().max_packet_size);
  if (access_) check_access(now);
}

void Connection::close(mqtt::Reason reason, std::string_view why) {
  if (state_ == State::Closed) return;
  const bool was_connected = state_ == State::Connected;
  if (was_connected && version_ == mqtt::Version::V5 && reason != mqtt::Reason::Success) {
    mqtt::Disconnect d;
    d.reason = reason;
    if (requested_problem_info_ && !why.empty()) d.props.reason_string = why;
    mqtt::encode(d, version_, out_);
    write_socket();  // best effort; the socket closes right after
    if (fd_ < 0) return;
  }
  // The transports' own endings, innermost first, each once (a failed write
  // closes again from inside write_socket): a WebSocket Close frame, then a
  // TLS close_notify.
  std::string ws_close;
  if (layers_ && layers_->ws && fd_ >= 0 && layers_->ws->close_frame(ws_close)) {
    stage_output();  // what was encoded before goes first
    if (layers_->tls) layers_->tls->write(ws_close, layers_->bytes);
    else layers_->bytes += ws_close;
    write_socket();
    if (fd_ < 0) return;
  }
  if (layers_ && layers_->tls && fd_ >= 0 && layers_->tls->close_notify(layers_->bytes)) {
    write_socket();  // best effort, as above
    if (fd_ < 0) return;
  }
  log::debug("connection {} closed: {}", id_, why);
  if (state_ == State::AwaitConnect) w_.handshake_over(id_);
  if (access_) access_->on_close(why);
  broker::Observer* observer = was_connected && session_ ? ns_->observer() : nullptr;  // issue 19
  const std::string peer = observer ? peer_endpoint(fd_) : std::string();
  state_ = State::Closed;
  ::close(fd_);  // also removes it from the epoll set
  fd_ = -1;
  w_.server().connection_counter().fetch_sub(1, std::memory_order_relaxed);
  if (was_connected && session_) {
    broker::Will will;
    const Rare none;
    const Rare& r = rare_ ? *rare_ : none;
    if (r.will && !will_suppressed_) will = {r.will, access_ ? access_->will_guard() : nullptr};
    ns_->disconnect(session_, this, std::move(will), r.will_delay_s, w_.ctx());
    if (r.will_key) ns_->disarm_will(r.will_key);  // after disconnect: a delayed will is stored by then
    if (observer) observer->client_event(*ns_, broker::ClientEvent::TcpClean, session_->client_id(), peer, id_);
  }
  w_.retire(this);
}

}  // namespace sluice::net
