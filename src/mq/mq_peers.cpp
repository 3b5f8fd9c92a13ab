// The questions one node asks the others (mq/peers.hpp) and its answers to
// theirs: a client's session and connection live on one node of a cluster,
// its traces on the nodes it used, and the management API answers for all.
// JSON both ways; an answer this node cannot read counts as none.
#include <boost/json.hpp>

#include "mq/internal.hpp"

namespace sluice::mq {

namespace json = boost::json;

namespace {

// A trace query answers the earliest rows of its range, at most as many as one
// node's TraceStore gives (its default max): each node sends its earliest
// that many (about 150 KB, within a NATS message's 1 MB), the merge keeps the
// earliest that many of all.
constexpr size_t kTraceRows = 1000;

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
int64_t num(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->get_int64() : v && v->is_uint64() ? static_cast<int64_t>(v->get_uint64()) : 0;
}
bool flag(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_bool() && v->get_bool();
}
const json::array* list(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_array() ? &v->get_array() : nullptr;
}
std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

json::value session_json(const SessionStatus& s) {
  json::array subs;
  for (const auto& [f, q] : s.subscription_list) subs.push_back(json::array{json::string(f), q});
  return json::object{{"online", s.online},     {"subs", std::move(subs)},  {"remote", s.remote_address},
                      {"clean", s.clean_session}, {"queued", s.queued}};
}
std::optional<SessionStatus> session_from(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  SessionStatus s;
  s.known = true;
  s.online = flag(o, "online");
  s.remote_address = str(o, "remote");
  s.clean_session = flag(o, "clean");
  s.queued = static_cast<size_t>(std::max<int64_t>(0, num(o, "queued")));
  if (const auto* subs = list(o, "subs"))
    for (const auto& e : *subs) {
      if (!e.is_array() || e.get_array().size() != 2 || !e.get_array()[0].is_string()) continue;
      const auto& q = e.get_array()[1];
      const std::string f(e.get_array()[0].get_string());
      s.filters.push_back(f);
      s.subscription_list.emplace_back(f, static_cast<uint8_t>(q.is_int64() ? q.get_int64() & 3 : 0));
    }
  s.subscriptions = s.filters.size();
  return s;
}

json::value trace_json(const DeviceTrace& t) {
  return json::object{{"t", t.time_ms},           {"c", t.client_id},  {"a", t.action},
                      {"r", t.reason},            {"ch", t.channel_id}, {"ip", t.remote_ip}};
}
json::value trace_json(const MessageTrace& t) {
  return json::object{{"t", t.time_ms}, {"m", t.msg_id}, {"to", t.topic}, {"c", t.client_id}, {"a", t.action},
                      {"q", t.qos}};
}
void trace_from(const json::object& o, DeviceTrace& t) {
  t.time_ms = num(o, "t");
  t.client_id = str(o, "c");
  t.action = str(o, "a");
  t.reason = str(o, "r");
  t.channel_id = str(o, "ch");
  t.remote_ip = str(o, "ip");
}
void trace_from(const json::object& o, MessageTrace& t) {
  t.time_ms = num(o, "t");
  t.msg_id = str(o, "m");
  t.topic = str(o, "to");
  t.client_id = str(o, "c");
  t.action = str(o, "a");
  t.qos = static_cast<uint8_t>(num(o, "q") & 3);
}

template <class T>
std::string traces_answer(const std::vector<T>& v) {
  json::array a;
  for (size_t i = 0; i < v.size() && i < kTraceRows; ++i) a.push_back(trace_json(v[i]));
  return json::serialize(json::object{{"traces", std::move(a)}});
}

// This node's rows and its peers' answers to `question`, in time order, the
// earliest kTraceRows.
template <class T>
std::vector<T> traces_everywhere(PeerNodes* peers, std::vector<T> here, std::string_view question) {
  if (!peers) return here;
  for (const auto& answer : peers->ask_all(question)) {
    auto a = parse_object(answer);
    const auto* rows = a ? list(*a, "traces") : nullptr;
    if (!rows) continue;
    for (const auto& r : *rows)
      if (r.is_object()) trace_from(r.get_object(), here.emplace_back());
  }
  std::stable_sort(here.begin(), here.end(), [](const T& x, const T& y) { return x.time_ms < y.time_ms; });
  if (here.size() > kTraceRows) here.resize(kTraceRows);
  return here;
}

}  // namespace

std::string MqService::answer_peer(std::string_view question) {
  auto q = parse_object(question);
  if (!q) return {};
  const std::string kind = str(*q, "q"), instance = str(*q, "instance");
  if (kind == "sessions") {
    json::array out;
    if (const auto* ids = list(*q, "ids"))
      for (const auto& id : *ids) {
        std::optional<SessionStatus> s;
        if (id.is_string() && session_lookup_) s = session_lookup_(instance, std::string(id.get_string()));
        out.push_back(s ? session_json(*s) : json::value(nullptr));
      }
    return json::serialize(json::object{{"sessions", std::move(out)}});
  }
  if (kind == "close") return json::serialize(json::object{{"closed", close_here(instance, str(*q, "client"))}});
  if (kind == "device_traces")
    return traces_answer(traces_.query_device(instance, str(*q, "client"), num(*q, "begin"), num(*q, "end")));
  if (kind == "message_traces")
    return traces_answer(traces_.query_messages(instance, str(*q, "msg"), str(*q, "client"), str(*q, "action"),
                                                num(*q, "begin"), num(*q, "end")));
  return {};
}

std::vector<SessionStatus> MqService::sessions_of(std::string_view instance_id, const std::vector<std::string>& ids) {
  std::vector<SessionStatus> out(ids.size());
  json::array elsewhere;  // the ids not connected here: another node may hold them
  std::vector<size_t> where;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (session_lookup_)
      if (auto found = session_lookup_(instance_id, ids[i])) out[i] = std::move(*found);
    if (!out[i].online) {
      elsewhere.push_back(json::string(ids[i]));
      where.push_back(i);
    }
  }
  if (peers_ && !where.empty()) {
    const std::string question = json::serialize(
        json::object{{"q", "sessions"}, {"instance", instance_id}, {"ids", std::move(elsewhere)}});
    for (const auto& answer : peers_->ask_all(question)) {
      auto a = parse_object(answer);
      const auto* got = a ? list(*a, "sessions") : nullptr;
      if (!got || got->size() != where.size()) continue;
      for (size_t k = 0; k < where.size(); ++k) {
        auto s = session_from((*got)[k]);
        SessionStatus& cur = out[where[k]];
        // Connected beats known, known beats unknown: one node holds a
        // session at a time, and an old holder has let it go.
        if (s && (s->online > cur.online || (!cur.known && !cur.online))) cur = std::move(*s);
      }
    }
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    out[i].instance_id = instance_id;
    out[i].client_id = ids[i];
  }
  return out;
}

bool MqService::close_here(std::string_view instance_id, std::string_view client_id) {
  // Only a client connected here: a request left for one that is not would
  // close its next connection, whenever that comes. Without a broker to ask
  // (tests of this layer alone) the request is kept.
  if (session_lookup_) {
    auto s = session_lookup_(instance_id, client_id);
    if (!s || !s->online) return false;
  }
  {
    std::lock_guard lk(close_mu_);
    close_requests_.insert(std::string(instance_id) + '\x1f' + std::string(client_id));
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);  // wakes the connection's access check
  return true;
}

Status MqService::CloseConnection(std::string_view account_id, std::string_view instance_id,
                                  std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  if (close_here(instance_id, client_id) || !peers_) return {};
  peers_->ask_all(json::serialize(json::object{{"q", "close"}, {"instance", instance_id}, {"client", client_id}}));
  return {};
}

std::vector<DeviceTrace> MqService::device_traces(std::string_view instance_id, std::string_view client_id,
                                                  int64_t begin_ms, int64_t end_ms) {
  return traces_everywhere(peers_.get(), traces_.query_device(instance_id, client_id, begin_ms, end_ms),
                           json::serialize(json::object{{"q", "device_traces"}, {"instance", instance_id},
                                                        {"client", client_id}, {"begin", begin_ms}, {"end", end_ms}}));
}

std::vector<MessageTrace> MqService::message_traces(std::string_view instance_id, std::string_view msg_id,
                                                    std::string_view client_id, std::string_view action,
                                                    int64_t begin_ms, int64_t end_ms) {
  return traces_everywhere(
      peers_.get(), traces_.query_messages(instance_id, msg_id, client_id, action, begin_ms, end_ms),
      json::serialize(json::object{{"q", "message_traces"}, {"instance", instance_id}, {"msg", msg_id},
                                   {"client", client_id}, {"action", action}, {"begin", begin_ms}, {"end", end_ms}}));
}

}  // namespace sluice::mq
