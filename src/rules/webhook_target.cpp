// The webhook target: HTTP POSTs to the rule's Url (http:// or https://).
//   outflow, Body=json (default): the message envelope (message_json), payload in base64;
//   outflow, Body=raw: the payload itself, the topic in X-Sluice-Topic (percent-encoded);
//   status: the event's JSON (status_event.cpp).
// One entry is one JSON body. When the backlog holds more than one (the
// receiver fell behind, or a burst), up to Batch (default 100) go in one POST
// as NDJSON (application/x-ndjson): one line per entry, each line the body the
// entry would have alone, with its own seq to de-duplicate by. Raw bodies are
// never batched (no framing). LingerMs (default kDefaultLingerMs) lets the
// runner of a busy rule wait that long for a batch to fill: fewer POSTs at a
// steady rate, for that latency (a quiet rule's entry goes at once).
// With a Secret, X-Sluice-Signature is "sha256=" + hex HMAC-SHA256(Secret,
// X-Sluice-Timestamp + "." + body): a receiver checks both (and may refuse old
// timestamps). 2xx is delivered; no answer, 408, 429 and 5xx are retried; any
// other status is a refusal (dead-lettered after a few tries).
#include <charconv>
#include <chrono>
#include <cstdlib>

#include "common/crypto.hpp"
#include "rules/envelope.hpp"
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
        batch_(raw_ ? 1 : batch_size(config_field(rule, "Batch"))),
        linger_ms_(linger_of(rule)),
        http_(url_, config_field(rule, "CaCert"), 5000) {}

  size_t max_batch() const override { return batch_; }
  int linger_ms() const override { return linger_ms_; }

  Outcome deliver(const Entry& e, std::string& error) override {
    if (rule_.type == "status") return post("application/json", {}, e.message->payload, e.seq, 1, error);
    if (raw_) {
      const std::string topic = "X-Sluice-Topic: " + percent_encode(e.message->topic) + "\r\n";
      return post("application/octet-stream", topic, e.message->payload, e.seq, 1, error);
    }
    body_.clear();
    envelope_.append(body_, e);
    return post("application/json", {}, body_.view(), e.seq, 1, error);
  }

  // Several entries: one JSON object a line (NDJSON), each line exactly the
  // body one entry alone would have, with its own seq.
  size_t deliver_batch(const std::vector<Entry>& batch, Outcome& o, std::string& error) override {
    body_.clear();  // its capacity stays: no allocation per POST at a steady rate
    if (rule_.type == "status") {
      for (const Entry& e : batch) {
        body_.append(e.message->payload);
        body_.push_back('\n');
      }
    } else {
      envelope_.append_lines(body_, batch.data(), batch.size());  // one growth of the body for all
    }
    o = post("application/x-ndjson", {}, body_.view(), batch.front().seq, batch.size(), error);
    if (body_.capacity() > kKeepBody) body_.release();  // a burst's big body is not kept
    return o == Outcome::Delivered ? batch.size() : 0;
  }

 private:
  static constexpr size_t kKeepBody = size_t(1) << 20;

  static size_t batch_size(const std::string& v) {
    if (v.empty()) return 100;
    const long n = std::atol(v.c_str());
    return n < 1 ? 1 : static_cast<size_t>(n);
  }

  // The request's header lines are written into one reused string: no vector
  // of header pairs and no string per header and per request.
  Outcome post(std::string_view content_type, std::string_view extra, std::string_view body, uint64_t first_seq,
               size_t count, std::string& error) {
    char digits[24];
    head_.assign("Content-Type: ").append(content_type).append("\r\n").append(extra).append(rule_line_);
    head_.append("X-Sluice-Seq: ").append(digits, std::to_chars(digits, digits + sizeof digits, first_seq).ptr);
    head_.append("\r\nX-Sluice-Count: ").append(digits, std::to_chars(digits, digits + sizeof digits, count).ptr);
    head_.append("\r\n");
    if (!secret_.empty()) {
      const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
      std::string signed_text = ts + ".";
      signed_text.append(body);
      head_.append("X-Sluice-Timestamp: ").append(ts).append("\r\nX-Sluice-Signature: sha256=");
      head_.append(common::hex(common::hmac_sha256(secret_, signed_text))).append("\r\n");
    }
    HttpResult r = http_.post(url_.path, head_, body);
    if (r.status >= 200 && r.status < 300) return Outcome::Delivered;
    if (r.status == 0) {
      error = r.error;
      return Outcome::Retry;
    }
    error = "HTTP " + std::to_string(r.status);
    if (r.status == 408 || r.status == 429 || r.status >= 500) return Outcome::Retry;
    return Outcome::Reject;
  }

  mq::Rule rule_;
  MessageEnvelope envelope_{rule_};
  UrlParts url_;
  std::string secret_;
  bool raw_;
  size_t batch_;
  int linger_ms_;
  HttpClient http_;
  const std::string rule_line_ = "X-Sluice-Rule: " + rule_.name + "\r\n";
  common::OutBuffer body_;  // reused for every POST
  std::string head_;
};

}  // namespace

std::unique_ptr<Target> make_webhook_target(const mq::Rule& rule) { return std::make_unique<WebhookTarget>(rule); }

}  // namespace sluice::rules
