#pragma once
// Messages for the PUBLISH hot path, recycled per thread.
//
// A routed QoS 0 message used to cost three allocations and three frees (the
// shared_ptr control block, the Message, its payload), ~450 instructions of
// malloc and free per message, about a seventh of the broker's own work. A
// pooled message comes from, and goes back to, a small free list of the thread
// that drops it last, with its strings' capacity kept, so a steady stream of
// similar messages allocates nothing. Messages move freely between threads: a
// thread that drops more than it makes (a rule's worker, issue 19) keeps at
// most kPoolMax of them and leaves the rest, a half pool at a time, in a
// shared depot (bounded) that a thread making more than it drops takes from. Strings over 512 bytes are not kept, so a small message
// never sits in a queue on a large recycled buffer. Under AddressSanitizer the
// pool is off, so a use after free is still caught.
#include <memory>

#include "broker/message.hpp"

namespace sluice::broker {

// An empty message (as a default-constructed one) that returns to a pool.
std::shared_ptr<Message> make_pooled_message();

// False under AddressSanitizer: every message is a fresh allocation there, so a
// use after free is caught rather than hidden by a recycled block.
bool message_pooling();

}  // namespace sluice::broker
