#pragma once
// A will message and the guard that decides, when it is about to go out,
// whether its client may still publish it. A will can leave long after its
// connection is gone (after its delay, when the session expires, when a clean
// start ends the session), and a right is checked where it is used (SPEC §4):
// a client whose rights were revoked, or that was dropped for it, gets no last
// publish through its will.
#include <memory>
#include <string>

#include "broker/message.hpp"

namespace sluice::broker {

class WillGuard {
 public:
  virtual ~WillGuard() = default;
  // Thread-safe: asked on whichever event loop publishes the will, possibly
  // after the connection that set it has closed. False: the will is dropped.
  virtual bool may_publish(const Message& will) = 0;
  // Who the will speaks for, in a form another node of a cluster can decide
  // on (AccessControl::will_guard_for); empty: not portable.
  virtual std::string identity() const { return {}; }
};

struct Will {
  MessagePtr message;
  std::shared_ptr<WillGuard> guard;  // null: no one to ask (anonymous mode, a will recovered after a restart)

  explicit operator bool() const { return message != nullptr; }
  // True when the will may go out now (asks the guard once).
  bool allowed() const { return message && (!guard || guard->may_publish(*message)); }
};

}  // namespace sluice::broker
