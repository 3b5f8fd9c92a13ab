#include "net/websocket.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace sluice::net {

namespace {

constexpr size_t kMaxRequest = 8192;

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (lower(item) == lower(token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string accept_key(std::string_view key) {
  std::string s(key);
  s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

void http_error(std::string& reply, std::string_view status, std::string_view why) {
  reply += "HTTP/1.1 ";
  reply += status;
  reply += "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ";
  reply += std::to_string(why.size() + 1);
  reply += "\r\n\r\n";
  reply += why;
  reply += "\n";
}

}  // namespace

bool WebSocketSession::feed(std::string_view in, std::string& payload, std::string& reply) {
  if (closing_) return false;
  buf_.append(in);
  if (!open_) {
    if (!handshake(reply)) return false;
    if (!open_) return true;  // need more of the request
  }
  return deframe(payload, reply);
}

bool WebSocketSession::handshake(std::string& reply) {
  size_t end = buf_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (buf_.size() > kMaxRequest) {
      error_ = "WebSocket upgrade request too large";
      http_error(reply, "431 Request Header Fields Too Large", error_);
      return false;
    }
    return true;
  }
  std::string_view req(buf_.data(), end);
  size_t eol = req.find("\r\n");
  std::string_view line = req.substr(0, eol);
  // Request line: GET <path> HTTP/1.1
  if (line.substr(0, 4) != "GET ") {
    error_ = "WebSocket: expected GET";
    http_error(reply, "405 Method Not Allowed", error_);
    return false;
  }
  auto sp = line.find(' ', 4);
  std::string_view target = line.substr(4, sp == std::string_view::npos ? std::string_view::npos : sp - 4);
  std::string_view path = target.substr(0, target.find('?'));
  if (!path_.empty() && path != path_ && path != "/") {
    error_ = "WebSocket: unknown path " + std::string(path);
    http_error(reply, "404 Not Found", error_);
    return false;
  }
  std::string key, upgrade, connection, protocols, version;
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : req.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = lower(trim(h.substr(0, colon)));
    std::string_view value = trim(h.substr(colon + 1));
    if (name == "sec-websocket-key") key = value;
    else if (name == "upgrade") upgrade = value;
    else if (name == "connection") connection = value;
    else if (name == "sec-websocket-protocol") protocols = value;
    else if (name == "sec-websocket-version") version = value;
    else if (name == "host") host_ = value;
  }
  if (lower(upgrade) != "websocket" || !has_token(connection, "upgrade") || key.empty()) {
    error_ = "WebSocket: not an upgrade request";
    http_error(reply, "400 Bad Request", error_);
    return false;
  }
  if (version != "13") {
    error_ = "WebSocket: unsupported version";
    reply += "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n";
    return false;
  }
  // MQTT spec 6.0: the client offers "mqtt"; older clients say "mqttv3.1".
  std::string chosen;
  if (has_token(protocols, "mqtt")) chosen = "mqtt";
  else if (has_token(protocols, "mqttv3.1")) chosen = "mqttv3.1";
  reply += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  reply += "Sec-WebSocket-Accept: " + accept_key(key) + "\r\n";
  if (!chosen.empty()) reply += "Sec-WebSocket-Protocol: " + chosen + "\r\n";
  reply += "\r\n";
  // Strip a ":port" from Host so it can name an instance.
  if (auto c = host_.rfind(':'); c != std::string::npos && host_.find(']') == std::string::npos)
    host_.resize(c);
  buf_.erase(0, end + 4);
  open_ = true;
  return true;
}

bool WebSocketSession::deframe(std::string& payload, std::string& reply) {
  size_t pos = 0;
  for (;;) {
    if (data_left_ > 0) {
      // Inside a data frame: stream what is here, so a large frame is never
      // buffered whole (the MQTT parser bounds packet sizes).
      const size_t n = static_cast<size_t>(std::min<uint64_t>(data_left_, buf_.size() - pos));
      if (n == 0) break;
      const size_t base = payload.size();
      payload.append(buf_, pos, n);
      for (size_t i = 0; i < n; ++i) payload[base + i] ^= static_cast<char>(mask_[(mask_pos_ + i) & 3]);
      mask_pos_ = (mask_pos_ + n) & 3;
      data_left_ -= n;
      pos += n;
      continue;
    }
    const size_t avail = buf_.size() - pos;
    if (avail < 2) break;
    const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos);
    const bool fin = p[0] & 0x80;
    const uint8_t opcode = p[0] & 0x0F;
    const bool masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7F;
    size_t hdr = 2;
    if (p[0] & 0x70) {
      error_ = "WebSocket: reserved bits set";
      return false;
    }
    if (len == 126) {
      if (avail < 4) break;
      len = (uint64_t(p[2]) << 8) | p[3];
      hdr = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      hdr = 10;
    }
    if (!masked) {
      error_ = "WebSocket: client frame not masked";
      return false;
    }
    if (avail < hdr + 4) break;
    const uint8_t* mask = p + hdr;
    if (opcode == 0x0 || opcode == 0x2) {
      std::memcpy(mask_, mask, 4);
      mask_pos_ = 0;
      data_left_ = len;
      pos += hdr + 4;
      continue;
    }
    if (opcode == 0x1) {
      error_ = "WebSocket: text frames are not MQTT";
      reply += "\x88\x02\x03\xEB";  // close 1003 unsupported data
      closing_ = true;
      return false;
    }
    if (opcode < 0x8 || opcode > 0xA) {
      error_ = "WebSocket: unknown opcode";
      return false;
    }
    if (!fin || len > 125) {
      error_ = "WebSocket: bad control frame";
      return false;
    }
    if (avail < hdr + 4 + len) break;
    std::string body(len, '\0');
    for (uint64_t i = 0; i < len; ++i) body[i] = static_cast<char>(p[hdr + 4 + i] ^ mask[i & 3]);
    pos += hdr + 4 + len;
    if (opcode == 0x8) {  // close: echo the status code, then close
      body.resize(std::min<size_t>(body.size(), 2));
      reply += static_cast<char>(0x88);
      reply += static_cast<char>(body.size());
      reply += body;
      closing_ = true;
      error_ = "WebSocket: closed by peer";
      return false;
    }
    if (opcode == 0x9) {  // ping -> pong with the same data
      reply += static_cast<char>(0x8A);
      reply += static_cast<char>(len);
      reply += body;
    }
  }
  buf_.erase(0, pos);
  return true;
}

bool WebSocketSession::close_frame(std::string& out) {
  if (!open_ || closing_) return false;
  closing_ = true;
  const uint16_t code = error_.empty() ? 1000 : 1002;
  out += static_cast<char>(0x88);
  out += static_cast<char>(2);
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  return true;
}

void WebSocketSession::frame(std::string_view data, std::string& out) {
  out += static_cast<char>(0x82);  // FIN + binary
  const size_t n = data.size();
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((uint64_t(n) >> (8 * i)) & 0xFF);
  }
  out.append(data);
}

}  // namespace sluice::net
