#pragma once
// Development mode: every client lands in one default namespace that behaves
// as a plain MQTT broker (any client id, any topic).
#include "broker/access.hpp"
#include "broker/broker.hpp"

namespace sluice::broker {

class AnonymousAccess final : public AccessControl {
 public:
  explicit AnonymousAccess(Broker& b, std::string ns = "") : ns_(b.get_or_create(ns)) {}
  Admission admit(const ConnectInfo&) override {
    Admission a;
    a.ns = ns_;
    return a;
  }

 private:
  std::shared_ptr<Namespace> ns_;
};

}  // namespace sluice::broker
