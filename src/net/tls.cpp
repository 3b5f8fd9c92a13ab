#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

namespace sluice::net {

namespace {
// The server's session cache (resumption). An entry holds the session and the
// client's parsed certificates: about 12 KB for a device with an intermediate
// (measured: RSS after 3,000 handshakes), so 2,048 entries bound it near 25 MB.
// A device that reconnects within the lifetime skips the key exchange and the
// handshake's certificate work; the instance's CAs and the device's status are
// still checked at every CONNECT. When full, OpenSSL drops the oldest.
constexpr long kSessionCacheSize = 2048;
constexpr long kSessionLifetimeSeconds = 300;

std::string last_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}
}  // namespace

TlsContext::TlsContext(const std::string& cert_file, const std::string& key_file,
                       const std::string& ca_file, bool require_client_cert) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (!ctx_) throw std::runtime_error("TLS: " + last_error());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str()) != 1)
    throw std::runtime_error("TLS: cannot load certificate " + cert_file + ": " + last_error());
  if (SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error("TLS: cannot load key " + key_file + ": " + last_error());
  if (SSL_CTX_check_private_key(ctx_) != 1)
    throw std::runtime_error("TLS: key " + key_file + " does not match certificate " + cert_file);
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("TLS: cannot load CA " + ca_file + ": " + last_error());
  // Resumed sessions carry the client's certificate; OpenSSL wants a context
  // id whenever it asks for one.
  static const unsigned char kSessionContext[] = "sluice-mqtt";
  SSL_CTX_set_session_id_context(ctx_, kSessionContext, sizeof kSessionContext - 1);
  // Resumption from the server's own session cache, not from stateless tickets.
  // OpenSSL 3.0 makes a stateless ticket by encoding the session and decoding
  // a copy of it (ssl/statem/statem_srvr.c), and decoding a session re-parses
  // the client's certificate, whose key goes through OSSL_DECODER_CTX_new_for_pkey
  // (about 1.2 M instructions in 3.0): a quarter of a full handshake's CPU
  // spent on a ticket that MQTT clients mostly never use (callgrind, 200
  // handshakes, docs/benchmarks.md). With SSL_OP_NO_TICKET a TLS 1.2 client
  // resumes by session id and a TLS 1.3 client gets stateful tickets, both from
  // this cache, which also keeps the client's whole chain (a stateless TLS 1.2
  // ticket carries only its own certificate, so a device issued by an
  // intermediate could not be checked again on resumption).
  SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx_, kSessionCacheSize);
  SSL_CTX_set_timeout(ctx_, kSessionLifetimeSeconds);
  SSL_CTX_set_num_tickets(ctx_, 1);  // TLS 1.3: one resumption per handshake is plenty
  if (!ca_file.empty() && require_client_cert) {
    // The listener's own CA decides at the handshake (the operator's choice).
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    // Every client is asked for a certificate and none is refused here: one
    // server certificate serves every instance, and a mutual-TLS instance
    // checks the chain against its own CAs once the CONNECT names it (issue
    // 18; mq/cert_auth.cpp). A client without a certificate sends none, as
    // before. The TLS handshake still proves the client holds the key of the
    // certificate it presents. peer_verified() keeps its meaning: verified
    // against the listener's CA file, if there is one.
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    SSL_CTX_set_client_hello_cb(ctx_, &TlsContext::on_client_hello, this);
  }
}

namespace {
// The first host_name of a ClientHello's server_name extension (RFC 6066 §3).
std::string_view host_name_of(const unsigned char* p, size_t len) {
  if (len < 2) return {};
  size_t list = (size_t(p[0]) << 8) | p[1];
  p += 2;
  len -= 2;
  if (list > len) return {};
  while (list >= 3) {
    const unsigned type = p[0];
    const size_t n = (size_t(p[1]) << 8) | p[2];
    if (n > list - 3) return {};
    if (type == TLSEXT_NAMETYPE_host_name) return {reinterpret_cast<const char*>(p + 3), n};
    p += 3 + n;
    list -= 3 + n;
  }
  return {};
}
}  // namespace

// Issue 18, "or chosen by SNI": a client that names a mutual-TLS instance in
// its SNI has its certificate verified against that instance's CAs here, in
// the handshake (no certificate, another CA, expired: a TLS alert, no
// CONNECT). The CONNECT still goes through the instance's full check (CA and
// device status, registration, audit). Without such a name, nothing changes.
int TlsContext::on_client_hello(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const TlsContext*>(arg);
  const unsigned char* ext = nullptr;
  size_t len = 0;
  if (!self->selector_ || SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) != 1)
    return SSL_CLIENT_HELLO_SUCCESS;
  const std::string_view name = host_name_of(ext, len);
  if (name.empty() || name.size() > 253) return SSL_CLIENT_HELLO_SUCCESS;
  std::shared_ptr<X509_STORE> store = self->selector_(name);
  if (!store) return SSL_CLIENT_HELLO_SUCCESS;
  SSL_set1_verify_cert_store(ssl, store.get());
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);  // a registered intermediate anchors, as at CONNECT
  X509_VERIFY_PARAM_set_depth(param, 8);
  // OpenSSL's own verdict (the context's accept-all callback stays unless replaced: null keeps it).
  SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, [](int ok, X509_STORE_CTX*) { return ok; });
  // A session is resumed only under the same name: one made where nothing was
  // verified at the handshake must not skip this check.
  unsigned char sid[SSL_MAX_SID_CTX_LENGTH] = "sluice-sni:";
  const size_t h = std::hash<std::string_view>()(name);
  std::memcpy(sid + 11, &h, sizeof h);
  SSL_set_session_id_context(ssl, sid, 11 + sizeof h);
  return SSL_CLIENT_HELLO_SUCCESS;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSession::TlsSession(const TlsContext& ctx) {
  ssl_ = SSL_new(ctx.native());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);  // the SSL owns both BIOs from here
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() {
  // OpenSSL drops a session from the cache when its connection is freed
  // without a close_notify sent (ssl_clear_bad_session), and the event loop
  // closes sockets without one. Since TLS 1.1 an unclosed connection need not
  // end its session (RFC 5246 section 7.2.1), and a fatal TLS error has taken
  // it out of the cache already, so a completed handshake's session stays.
  if (done_) SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_SENT_SHUTDOWN);
  SSL_free(ssl_);
}

void TlsSession::drain(std::string& wire) {
  char buf[16384];
  int n;
  while ((n = BIO_read(wbio_, buf, sizeof buf)) > 0) wire.append(buf, static_cast<size_t>(n));
}

bool TlsSession::feed(std::string_view cipher, std::string& plain, std::string& wire) {
  while (!cipher.empty()) {
    int n = BIO_write(rbio_, cipher.data(), static_cast<int>(cipher.size()));
    if (n <= 0) {
      error_ = "TLS: cannot buffer input";
      return false;
    }
    cipher.remove_prefix(static_cast<size_t>(n));
  }
  if (!done_) {
    int rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      int err = SSL_get_error(ssl_, rc);
      drain(wire);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
      error_ = "TLS handshake failed: " + last_error();
      return false;
    }
    done_ = true;
    if (!flush_pending(wire)) return false;
  }
  char buf[16384];
  for (;;) {
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, static_cast<size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    drain(wire);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
    if (err == SSL_ERROR_ZERO_RETURN) {
      error_ = "TLS close_notify";
      return false;
    }
    error_ = "TLS read failed: " + last_error();
    return false;
  }
}

bool TlsSession::flush_pending(std::string& wire) {
  if (pending_.empty()) return true;
  std::string p;
  p.swap(pending_);
  return write(p, wire);
}

bool TlsSession::write(std::string_view plain, std::string& wire) {
  if (!done_) {
    pending_.append(plain);
    return true;
  }
  while (!plain.empty()) {
    int n = SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
    if (n <= 0) {
      error_ = "TLS write failed: " + last_error();
      return false;
    }
    plain.remove_prefix(static_cast<size_t>(n));
    drain(wire);
  }
  return true;
}

bool TlsSession::close_notify(std::string& wire) {
  if (!done_ || !error_.empty() || notified_) return false;
  notified_ = true;
  // One call sends ours; the peer's reply is not waited for (the socket
  // closes next), which RFC 8446 allows the side that closes.
  if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
  drain(wire);
  return true;
}

std::string TlsSession::server_name() const {
  const char* n = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return n ? n : "";
}

std::vector<std::string> TlsSession::peer_chain_der() const {
  std::vector<std::string> out;
  // On the server side the chain does not hold the peer's own certificate:
  // it comes first, from SSL_get0_peer_certificate.
  auto add = [&out](X509* x) {
    unsigned char* der = nullptr;
    const int n = i2d_X509(x, &der);
    if (n > 0) out.emplace_back(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
  };
  X509* leaf = SSL_get0_peer_certificate(ssl_);
  if (!leaf) return out;
  add(leaf);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_))
    for (int i = 0; i < sk_X509_num(chain); ++i)
      if (X509* x = sk_X509_value(chain, i); X509_cmp(x, leaf) != 0) add(x);
  return out;
}

bool TlsSession::peer_verified() const {
  return SSL_get0_peer_certificate(ssl_) != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK;
}

}  // namespace sluice::net
