// The webhook target: each entry is one HTTP POST to the rule's Url.
//   outflow, Body=json (default): the message envelope (message_json), payload in base64;
//   outflow, Body=raw: the payload itself, the topic in X-Sluice-Topic (percent-encoded);
//   status: the event's JSON (status_event.cpp).
// With a Secret, X-Sluice-Signature is "sha256=" + hex HMAC-SHA256(Secret,
// X-Sluice-Timestamp + "." + body): a receiver checks both (and may refuse old
// timestamps). 2xx is delivered; no answer, 408, 429 and 5xx are retried; any
// other status is a refusal (dead-lettered after a few tries).
#include <chrono>

#include "common/crypto.hpp"
#include "rules/http_client.hpp"
#include "rules/targets_internal.hpp"

namespace sluice::rules {

namespace {

std::string percent_encode(std::string_view s) {
  static const char* hexd = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '#') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hexd[c >> 4];
      out += hexd[c & 15];
    }
  }
  return out;
}

class WebhookTarget final : public Target {
 public:
  explicit WebhookTarget(const mq::Rule& rule)
      : rule_(rule),
        url_(split_http_url(config_field(rule, "Url"))),
        secret_(config_field(rule, "Secret")),
        raw_(config_field(rule, "Body") == "raw"),
        http_(url_.host, url_.port, 5000) {}

  Outcome deliver(const Entry& e, std::string& error) override {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    if (rule_.type == "status") {
      body = e.message->payload;
      headers.emplace_back("Content-Type", "application/json");
    } else if (raw_) {
      body = e.message->payload;
      headers.emplace_back("Content-Type", "application/octet-stream");
      headers.emplace_back("X-Sluice-Topic", percent_encode(e.message->topic));
    } else {
      body = message_json(rule_, e);
      headers.emplace_back("Content-Type", "application/json");
    }
    headers.emplace_back("X-Sluice-Rule", rule_.name);
    headers.emplace_back("X-Sluice-Seq", std::to_string(e.seq));
    if (!secret_.empty()) {
      const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
      headers.emplace_back("X-Sluice-Timestamp", ts);
      headers.emplace_back("X-Sluice-Signature", "sha256=" + common::hex(common::hmac_sha256(secret_, ts + "." + body)));
    }
    HttpResult r = http_.post(url_.path, headers, body);
    if (r.status >= 200 && r.status < 300) return Outcome::Delivered;
    if (r.status == 0) {
      error = r.error;
      return Outcome::Retry;
    }
    error = "HTTP " + std::to_string(r.status);
    if (r.status == 408 || r.status == 429 || r.status >= 500) return Outcome::Retry;
    return Outcome::Reject;
  }

 private:
  mq::Rule rule_;
  UrlParts url_;
  std::string secret_;
  bool raw_;
  HttpClient http_;
};

}  // namespace

std::unique_ptr<Target> make_webhook_target(const mq::Rule& rule) { return std::make_unique<WebhookTarget>(rule); }

}  // namespace sluice::rules
