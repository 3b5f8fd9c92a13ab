#pragma once
// TLS over memory BIOs: the event loop owns the socket, OpenSSL only
// transforms bytes. This keeps TLS connections on the same loop, buffers and
// write coalescing as plain ones.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;
struct x509_store_st;

namespace sluice::net {

// The CAs a client certificate is verified against during the handshake when
// the client's SNI (server name) asks for it; null: no check at the handshake
// (the listener's own settings apply). Called on the event loops, once per
// handshake that sends a server name; the store is up-referenced by the
// connection, so the pointer need only live through the call.
using ClientCaSelector = std::function<std::shared_ptr<x509_store_st>(std::string_view server_name)>;

// Told of every TLS handshake that failed after the client sent a server name
// (on the event loop): where a selector verified the client for that name,
// the refusal is a denial to audit, since the client never reaches CONNECT.
using TlsRefusalReporter =
    std::function<void(std::string_view server_name, std::string_view peer, std::string_view why)>;

class TlsContext {
 public:
  // Loads a PEM certificate chain and key. ca_file (optional) enables client
  // certificate verification. Throws std::runtime_error naming the problem.
  TlsContext(const std::string& cert_file, const std::string& key_file,
             const std::string& ca_file = "", bool require_client_cert = false);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ssl_ctx_st* native() const { return ctx_; }
  // Set before the listeners accept (Server::start).
  void set_client_ca_selector(ClientCaSelector s) { selector_ = std::move(s); }

 private:
  static int on_client_hello(ssl_st* ssl, int* alert, void* self);
  ssl_ctx_st* ctx_ = nullptr;
  ClientCaSelector selector_;
};

class TlsSession {
 public:
  explicit TlsSession(const TlsContext& ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Feeds ciphertext from the socket. Appends decrypted application bytes to
  // `plain` and any bytes OpenSSL wants sent (handshake, alerts) to `wire`.
  // Returns false on a fatal TLS error (error() says which); the caller sends
  // `wire` (the alert) and closes.
  bool feed(std::string_view cipher, std::string& plain, std::string& wire);
  // Encrypts application bytes into TLS records appended to `wire`.
  bool write(std::string_view plain, std::string& wire);
  // Appends a close_notify alert to `wire` (RFC 8446 6.1): the server is
  // ending the connection, and a client must be able to tell that from a cut
  // (OpenSSL 3 reports a bare TCP close as "unexpected eof"). Nothing after a
  // failed handshake or a fatal error, nor a second time: false then.
  bool close_notify(std::string& wire);
  bool handshake_done() const { return done_; }
  std::string server_name() const;  // SNI, or empty
  // The certificate chain the client presented (DER, its own first; empty if none).
  std::vector<std::string> peer_chain_der() const;
  // A client certificate was presented and verified against the listener's CA file.
  bool peer_verified() const;
  const std::string& error() const { return error_; }

 private:
  void drain(std::string& wire);
  bool flush_pending(std::string& wire);
  ssl_st* ssl_ = nullptr;
  bio_st* rbio_ = nullptr;  // network -> OpenSSL
  bio_st* wbio_ = nullptr;  // OpenSSL -> network
  bool done_ = false;
  bool notified_ = false;   // close_notify sent
  std::string pending_;     // plaintext written before the handshake finished
  std::string error_;
};

}  // namespace sluice::net
