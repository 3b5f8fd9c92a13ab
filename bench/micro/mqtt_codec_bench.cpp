// Micro benchmarks of the MQTT codec hot paths: PUBLISH parse and encode
// (one of each per message through the broker), plus topic checks.
#include <benchmark/benchmark.h>

#include <string>

#include "mqtt/codec.hpp"
#include "mqtt/topic.hpp"

namespace {

using namespace sluice::mqtt;

Publish sample_publish(uint8_t qos, bool props) {
  Publish m;
  m.topic = "sensors/building-7/floor-3/room-12/temperature";
  m.payload = "{\"t\":21.5,\"h\":40}";  // a small telemetry message
  m.qos = qos;
  m.packet_id = qos ? 42 : 0;
  if (props) {
    m.props.message_expiry_interval = 60;
    m.props.content_type = "application/json";
  }
  return m;
}

void parse_publish(benchmark::State& state, Version v, uint8_t qos, bool props) {
  std::string bytes;
  encode(sample_publish(qos, props), v, bytes);
  Parser p;
  p.set_version(v);
  Packet pkt;
  for (auto _ : state) {
    ParseResult r = p.parse(bytes, pkt);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(pkt);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes.size()));
}

void encode_publish(benchmark::State& state, Version v, uint8_t qos, bool props) {
  const Publish m = sample_publish(qos, props);
  std::string out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    encode(m, v, out);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_ParsePublishQos0_V311(benchmark::State& s) { parse_publish(s, Version::V3_1_1, 0, false); }
void BM_ParsePublishQos0_V5(benchmark::State& s) { parse_publish(s, Version::V5, 0, false); }
void BM_ParsePublishQos1_V5_Props(benchmark::State& s) { parse_publish(s, Version::V5, 1, true); }
void BM_EncodePublishQos0_V311(benchmark::State& s) { encode_publish(s, Version::V3_1_1, 0, false); }
void BM_EncodePublishQos0_V5(benchmark::State& s) { encode_publish(s, Version::V5, 0, false); }
void BM_EncodePublishQos1_V5_Props(benchmark::State& s) { encode_publish(s, Version::V5, 1, true); }
BENCHMARK(BM_ParsePublishQos0_V311);
BENCHMARK(BM_ParsePublishQos0_V5);
BENCHMARK(BM_ParsePublishQos1_V5_Props);
BENCHMARK(BM_EncodePublishQos0_V311);
BENCHMARK(BM_EncodePublishQos0_V5);
BENCHMARK(BM_EncodePublishQos1_V5_Props);

void BM_ParseManyPublishesInOneBuffer(benchmark::State& state) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) encode(sample_publish(0, false), Version::V3_1_1, bytes);
  Parser p;
  p.set_version(Version::V3_1_1);
  Packet pkt;
  for (auto _ : state) {
    std::string_view in = bytes;
    for (;;) {
      ParseResult r = p.parse(in, pkt);
      if (r.status != ParseStatus::Ok) break;
      in.remove_prefix(r.consumed);
    }
    benchmark::DoNotOptimize(in);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 64);
}
BENCHMARK(BM_ParseManyPublishesInOneBuffer);

void BM_ValidTopicName(benchmark::State& state) {
  const std::string t = "sensors/building-7/floor-3/room-12/temperature";
  for (auto _ : state) benchmark::DoNotOptimize(valid_topic_name(t));
}
BENCHMARK(BM_ValidTopicName);

void BM_TopicMatches(benchmark::State& state) {
  const std::string f = "sensors/+/floor-3/#";
  const std::string t = "sensors/building-7/floor-3/room-12/temperature";
  for (auto _ : state) benchmark::DoNotOptimize(topic_matches(f, t));
}
BENCHMARK(BM_TopicMatches);

}  // namespace
