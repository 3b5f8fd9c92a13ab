// The anonymous development mode (SPEC §5, `--allow-anonymous`, off by default
// and loudly logged): every client, with or without credentials, lands in one
// default namespace that behaves as a plain MQTT broker (any client id, any
// topic), so standard clients and conformance suites run against it unchanged.
// No credential: the connection gets no access object and pays for no check.
#include "mq/auth_modes.hpp"

namespace sluice::mq {

namespace {

class AnonymousMode final : public AuthMode {
 public:
  std::string_view name() const override { return "Anonymous"; }
  bool claims(const broker::ConnectInfo&) const override { return true; }
  Named named(const Attempt&) const override { return Named{"", ""}; }  // the default namespace ""
  AuthOutcome authenticate(const Attempt&) override { return {}; }
};

}  // namespace

std::unique_ptr<AuthMode> make_anonymous_mode() { return std::make_unique<AnonymousMode>(); }

}  // namespace sluice::mq
