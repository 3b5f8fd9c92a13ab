#include "api/signature.hpp"

#include <algorithm>
#include <ctime>
#include <random>

#include "common/iso_time.hpp"

namespace sluice::api {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
std::vector<const std::pair<std::string, std::string>*> sorted(const Params& p) {
  std::vector<const std::pair<std::string, std::string>*> v;
  v.reserve(p.size());
  for (const auto& kv : p) v.push_back(&kv);
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return v;
}
}  // namespace

std::string v1_canonicalized(const Params& params) {
  std::string out;
  for (const auto* kv : sorted(params)) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(kv->first);
    out.push_back('=');
    out += percent_encode(kv->second);
  }
  return out;
}

std::string v1_string_to_sign(std::string_view method, const Params& params) {
  std::string s(method);
  s += "&%2F&";
  s += percent_encode(v1_canonicalized(params));
  return s;
}

std::string v1_sign(std::string_view secret, std::string_view string_to_sign) {
  std::string key(secret);
  key.push_back('&');
  return base64(hmac_sha1(key, string_to_sign));
}

std::optional<V3Authorization> parse_v3_authorization(std::string_view h) {
  constexpr std::string_view kAlg = "ACS3-HMAC-SHA256 ";
  if (h.substr(0, kAlg.size()) != kAlg) return std::nullopt;
  h.remove_prefix(kAlg.size());
  V3Authorization a;
  bool have_cred = false, have_sh = false, have_sig = false;
  while (!h.empty()) {
    size_t comma = h.find(',');
    std::string_view part = trim(h.substr(0, comma));
    h = comma == std::string_view::npos ? std::string_view{} : h.substr(comma + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view k = part.substr(0, eq), v = part.substr(eq + 1);
    if (k == "Credential") {
      a.access_key_id = std::string(v);
      have_cred = true;
    } else if (k == "SignedHeaders") {
      have_sh = true;
      while (!v.empty()) {
        size_t semi = v.find(';');
        std::string name(v.substr(0, semi));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!name.empty()) a.signed_headers.push_back(std::move(name));
        v = semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1);
      }
    } else if (k == "Signature") {
      a.signature = std::string(v);
      have_sig = true;
    }
  }
  if (!have_cred || !have_sh || !have_sig || a.access_key_id.empty() || a.signature.empty()) return std::nullopt;
  return a;
}

std::string v3_canonical_query(const Params& query) {
  std::string out;
  for (const auto* kv : sorted(query)) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(kv->first);
    out.push_back('=');
    out += percent_encode(kv->second);
  }
  return out;
}

std::string v3_canonical_request(std::string_view method, std::string_view uri, const Params& query,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::vector<std::string>& signed_headers, std::string_view payload_hash) {
  std::string s(method);
  s.push_back('\n');
  s += uri;
  s.push_back('\n');
  s += v3_canonical_query(query);
  s.push_back('\n');
  std::vector<std::string> names = signed_headers;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& n : names) {
    std::vector<std::string_view> vals;
    for (const auto& [k, v] : headers)
      if (k == n) vals.push_back(trim(v));
    std::sort(vals.begin(), vals.end());
    s += n;
    s.push_back(':');
    for (size_t i = 0; i < vals.size(); ++i) {
      if (i) s.push_back(',');
      s += vals[i];
    }
    s.push_back('\n');
  }
  s.push_back('\n');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) s.push_back(';');
    s += names[i];
  }
  s.push_back('\n');
  s += payload_hash;
  return s;
}

std::string v3_string_to_sign(std::string_view canonical_request) {
  return "ACS3-HMAC-SHA256\n" + hex(sha256(canonical_request));
}

std::string v3_sign(std::string_view secret, std::string_view string_to_sign) {
  return hex(hmac_sha256(secret, string_to_sign));
}

std::optional<int64_t> parse_timestamp(std::string_view s) {
  // YYYY-MM-DDThh:mm:ss[.fff]Z
  if (s.size() < 20 || s.back() != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t n, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) || s[10] != 'T' ||
      !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' || !num(17, 2, se))
    return std::nullopt;
  if (s.size() > 20) {
    if (s[19] != '.' || s.size() > 30) return std::nullopt;
    for (size_t i = 20; i + 1 < s.size(); ++i)
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (s.size() == 21) return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  return static_cast<int64_t>(timegm(&tm));
}

std::string format_timestamp(int64_t t) { return common::iso8601_utc(t); }

uint64_t NonceCache::random_salt() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

bool NonceCache::first_use(std::string_view access_key_id, std::string_view nonce, int64_t now) {
  std::string key(reinterpret_cast<const char*>(&salt_), sizeof salt_);
  key.append(access_key_id).push_back('\n');
  key.append(nonce);
  const uint64_t h = std::hash<std::string>{}(key);
  std::lock_guard lk(mu_);
  while (!order_.empty() && (order_.front().first <= now || order_.size() >= max_)) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
  if (!seen_.insert(h).second) return false;
  order_.emplace_back(now + ttl_, h);
  return true;
}

size_t NonceCache::size() const {
  std::lock_guard lk(mu_);
  return seen_.size();
}

}  // namespace sluice::api
