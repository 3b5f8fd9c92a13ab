#include "app/mq_binding.hpp"

#include <algorithm>
#include <tuple>

#include "broker/broker.hpp"
#include "broker/namespace.hpp"
#include "cluster/peer_calls.hpp"
#include "mq/mq_service.hpp"

namespace sluice::app {

broker::NamespaceConfig namespace_config(const mq::InstanceSettings& s, const broker::NamespaceConfig& d) {
  broker::NamespaceConfig c = d;
  // The payload limit is enforced through the packet size: payload + the longest
  // topic (4 bytes per UTF-8 char at most) + room for headers and properties.
  const uint64_t packet = uint64_t(s.max_payload) + uint64_t(s.max_topic_length) * 4 + 1024;
  c.max_packet_size = static_cast<uint32_t>(std::min<uint64_t>(packet, d.max_packet_size));
  c.max_subscriptions_per_client = static_cast<uint16_t>(std::min<uint32_t>(s.max_subscriptions_per_client, 65535));
  c.max_session_expiry = std::min(d.max_session_expiry, s.offline_message_ttl_s);
  c.maximum_qos = s.qos2 ? std::min<uint8_t>(d.maximum_qos, 2) : std::min<uint8_t>(d.maximum_qos, 1);
  c.qos2_persistent_sessions = d.qos2_persistent_sessions && s.qos2_persistent_sessions;
  c.retain_available = d.retain_available && s.retain_available;
  c.shared_subscriptions = d.shared_subscriptions && s.shared_subscriptions;
  c.wildcard_subscriptions = d.wildcard_subscriptions && s.wildcard_subscriptions;
  c.will_available = d.will_available && s.will_available;
  c.max_queued_total = s.max_offline_messages;
  c.p2p_topics = true;
  return c;
}

void bind_mq_to_broker(mq::MqService& mq, broker::Broker& broker) {
  mq.on_snapshot([&mq, &broker](const mq::MqState& s) {
    for (const auto& [id, st] : s.instances) {
      auto ns = broker.find(id);
      const broker::NamespaceConfig cfg = namespace_config(st.inst.settings, broker.defaults());
      if (!ns) {
        ns = broker.get_or_create(id, cfg);
        ns->set_tracer(mq.traces().tracer_for(id));
      } else {
        ns->set_config(cfg);
      }
      ns->set_tracing(st.inst.settings.message_trace);
    }
  });
  mq.set_session_lookup([&broker](std::string_view instance_id,
                                  std::string_view client_id) -> std::optional<mq::SessionStatus> {
    auto ns = broker.find(instance_id);
    if (!ns) return std::nullopt;
    auto sess = ns->find_session(client_id);
    if (!sess) return std::nullopt;
    mq::SessionStatus st;
    st.known = true;
    st.online = sess->online();
    st.filters = sess->subscription_filters();
    st.subscriptions = st.filters.size();
    st.subscription_list = sess->subscriptions_with_qos();
    std::tie(st.remote_address, st.clean_session) = sess->origin();
    st.queued = sess->queued();
    return st;
  });
}

namespace {
struct PeersOverNats final : mq::PeerNodes {
  explicit PeersOverNats(cluster::PeerCalls& c) : calls(c) {}
  std::vector<std::string> ask_all(std::string_view question) override { return calls.ask_all(question); }
  cluster::PeerCalls& calls;
};
}  // namespace

void bind_mq_to_peers(mq::MqService& mq, cluster::PeerCalls& calls) {
  calls.start([&mq](std::string_view question) { return mq.answer_peer(question); });
  mq.set_peers(std::make_shared<PeersOverNats>(calls));
}

}  // namespace sluice::app
