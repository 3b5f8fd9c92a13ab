// PUBACK / PUBREC held back until the message is durable (fsync = always | batch).
//
// Routing a publish to a persistent session records it (broker/persistence.hpp)
// and advances the worker's ticket; the publisher's ack then waits in the
// worker's held_acks_ until the store has made that ticket durable. The store
// calls Server::durable() then (its writer after a commit, or with fsync=batch
// its syncer after an fdatasync), which posts to each loop
// holding acks. No thread ever waits for the disk.
//
// Lost wake-ups: the worker publishes ack_wanted_ before reading durable(), the
// writer publishes durable() before reading ack_wanted_ (both seq_cst), so at
// least one of them sees the other.
#include <algorithm>

#include "mqtt/codec.hpp"
#include "net/connection.hpp"
#include "net/server.hpp"
#include "net/worker.hpp"

namespace sluice::net {

void Server::durable(uint64_t ticket) {
  // Two callers at once (a cluster) may both post, or store their tickets out
  // of order: a post too many, never one missing (what a worker waits for is
  // at most a ticket that was posted there).
  for (unsigned i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    if (w->ack_wanted() <= ack_posted_[i].load()) continue;  // nothing new waits there
    ack_posted_[i].store(ticket);
    w->post([w, ticket] { w->acks_durable(ticket); });
  }
}

void Worker::defer_ack(uint64_t connection_id, uint64_t ticket, uint16_t packet_id, bool pubrec) {
  held_acks_.push_back(HeldAck{connection_id, ticket, packet_id, pubrec});
  if (ticket > ack_wanted_.load()) ack_wanted_.store(ticket);
  if (auto* p = server_.persistence()) {
    const uint64_t done = p->durable();
    if (done >= ticket) acks_durable(done);
  }
}

void Worker::acks_durable(uint64_t ticket) {
  while (!held_acks_.empty() && held_acks_.front().ticket <= ticket) {
    const HeldAck a = held_acks_.front();
    held_acks_.pop_front();
    if (Connection* c = find(a.connection_id)) c->release_ack(a.packet_id, a.pubrec);
  }
}

void Connection::ack_publish(mqtt::PacketType type, uint16_t packet_id, uint64_t ticket) {
  // Once one ack is held, later ones queue behind it: acks leave in PUBLISH order.
  if (ticket != 0 || held_acks_ != 0) {
    uint64_t& last = rare().last_held_ticket;
    last = std::max(last, ticket);
    ++held_acks_;
    w_.defer_ack(id_, last, packet_id, type == mqtt::PacketType::Pubrec);
    return;
  }
  mqtt::encode(mqtt::Ack{type, packet_id, mqtt::Reason::Success, {}}, version_, out_);
  queued_output();
}

void Connection::release_ack(uint16_t packet_id, bool pubrec) {
  if (held_acks_ > 0) --held_acks_;
  if (state_ != State::Connected) return;
  mqtt::encode(mqtt::Ack{pubrec ? mqtt::PacketType::Pubrec : mqtt::PacketType::Puback, packet_id,
                         mqtt::Reason::Success, {}},
               version_, out_);
  queued_output();
}

}  // namespace sluice::net
