#include "cluster/peer_calls.hpp"

#include <algorithm>
#include <mutex>

#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"

namespace sluice::cluster {

PeerCalls::PeerCalls(NatsLink& link, const NodeLeases& leases, std::string node)
    : link_(link), leases_(leases), node_(std::move(node)) {}

PeerCalls::~PeerCalls() { stop(); }

void PeerCalls::start(Answerer a) {
  {
    std::unique_lock lk(mu_);
    answerer_ = std::move(a);
  }
  sub_ = link_.subscribe(kSubject, "", [this](NatsMessage&& m) {
    if (m.reply.empty()) return;
    std::string answer;
    {
      std::shared_lock lk(mu_);
      if (!answerer_) return;
      answer = answerer_(m.data);
    }
    link_.respond(m.reply, node_ + "\n" + answer);
  });
}

void PeerCalls::stop() {
  if (sub_) link_.unsubscribe(sub_);
  sub_ = 0;
  std::unique_lock lk(mu_);
  answerer_ = nullptr;
}

std::vector<std::string> PeerCalls::ask_all(std::string_view question) {
  std::vector<std::string> expected = leases_.others_alive();
  // Just started, this node may not have heard every other node yet: it
  // waits the whole time limit for whoever answers.
  const bool settled = leases_.settled();
  if ((settled && expected.empty()) || !link_.connected()) return {};
  // Each node's first answer counts (were there more, they would not count
  // twice); done once every node alive has answered.
  std::vector<std::string> answers, heard;
  link_.gather(kSubject, question, kTimeoutMs, [&](std::string&& a) {
    const size_t nl = a.find('\n');
    if (nl == std::string::npos) return false;
    std::string node = a.substr(0, nl);
    if (std::find(heard.begin(), heard.end(), node) != heard.end()) return false;
    heard.push_back(std::move(node));
    answers.push_back(a.substr(nl + 1));
    return settled && std::all_of(expected.begin(), expected.end(), [&](const std::string& n) {
             return std::find(heard.begin(), heard.end(), n) != heard.end();
           });
  });
  return answers;
}

}  // namespace sluice::cluster
