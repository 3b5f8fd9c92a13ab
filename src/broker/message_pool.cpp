#include "broker/message_pool.hpp"

#include "common/sanitizer.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

namespace sluice::broker {
namespace {

// Under AddressSanitizer every message is a fresh allocation, so a use after
// free is caught rather than hidden by a recycled object.
constexpr bool kPooling = !common::kAddressSanitizer;

constexpr size_t kPoolMax = 256;       // per thread, of each kind
constexpr size_t kKeepCapacity = 512;  // larger strings are freed, not kept: a queued
                                       // message holds at most this beyond its size
constexpr size_t kDepotMax = 4096;     // of each kind, between threads
constexpr size_t kMove = kPoolMax / 2;  // what one trip to the depot moves

// Where a thread whose pool is full leaves half of it, and a thread whose pool
// is empty takes from: messages that flow one way (made on an event loop,
// dropped last on a rule's worker or the store's writer, issue 19) come back
// to the loop that makes them instead of one malloc there and one free here
// per message. One lock per kMove items. Never destroyed: threads may still
// drop messages while the process exits.
template <class Kind>
struct Depot {
  std::mutex mu;
  std::vector<void*> items;
  std::atomic<size_t> count{0};  // items.size(), read without the lock

  static Depot& get() {
    static Depot* d = new Depot;
    return *d;
  }
  // A full pool's back half goes here, if there is room.
  void put(std::vector<void*>& pool) {
    std::lock_guard lk(mu);
    const size_t n = std::min(kMove, kDepotMax - std::min(kDepotMax, items.size()));
    items.insert(items.end(), pool.end() - static_cast<std::ptrdiff_t>(n), pool.end());
    pool.resize(pool.size() - n);
    count.store(items.size(), std::memory_order_relaxed);
  }
  // An empty pool takes up to kMove from here.
  void take(std::vector<void*>& pool) {
    if (count.load(std::memory_order_relaxed) == 0) return;
    std::lock_guard lk(mu);
    const size_t n = std::min(kMove, items.size());
    pool.insert(pool.end(), items.end() - static_cast<std::ptrdiff_t>(n), items.end());
    items.resize(items.size() - n);
    count.store(items.size(), std::memory_order_relaxed);
  }
};

// Set when this thread's pools are destroyed (thread exit): a message dropped
// after that (by another thread-local's destructor) is simply deleted. Trivial
// type, so it is readable at any point of the thread's teardown.
thread_local bool t_pools_gone = false;

// A free list of fixed-size blocks, one per block size that asks for it.
template <size_t Size>
struct BlockPool {
  std::vector<void*> free;
  BlockPool() { free.reserve(kPoolMax); }
  ~BlockPool() {
    for (void* p : free) ::operator delete(p);
    t_pools_gone = true;
  }
};

template <size_t Size>
BlockPool<Size>& block_pool() {
  thread_local BlockPool<Size> pool;
  return pool;
}

// Allocator for the shared_ptr control block.
template <class T>
struct BlockAllocator {
  using value_type = T;
  BlockAllocator() = default;
  template <class U>
  BlockAllocator(const BlockAllocator<U>&) {}
  T* allocate(size_t n) {
    if (n == 1 && !t_pools_gone) {
      auto& pool = block_pool<sizeof(T)>();
      if (pool.free.empty()) Depot<BlockPool<sizeof(T)>>::get().take(pool.free);
      if (!pool.free.empty()) {
        void* p = pool.free.back();
        pool.free.pop_back();
        return static_cast<T*>(p);
      }
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (n == 1 && !t_pools_gone) {
      auto& pool = block_pool<sizeof(T)>();
      if (pool.free.size() >= kPoolMax) Depot<BlockPool<sizeof(T)>>::get().put(pool.free);
      if (pool.free.size() < kPoolMax) {
        pool.free.push_back(p);
        return;
      }
    }
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const BlockAllocator<U>&) const { return true; }
};

struct MessagePool {
  std::vector<void*> free;  // Message*
  MessagePool() { free.reserve(kPoolMax); }
  ~MessagePool() {
    for (void* m : free) delete static_cast<Message*>(m);
    t_pools_gone = true;
  }
};

MessagePool& message_pool() {
  thread_local MessagePool pool;
  return pool;
}

// Back to the default state, keeping the strings' buffers. Field by field:
// `m = Message{}` would derive it, but costs ~190 instructions per message
// (a temporary and a move of every optional), more than the pool saves on the
// payload. The size check below trips when Message gains a field, so the
// field is added here too.
static_assert(sizeof(void*) != 8 || sizeof(Message) == 248,
              "Message changed: reset the new field in clear(), then update this size");
void clear(Message& m) {
  m.topic.clear();
  m.payload.clear();
  m.qos = 0;
  m.retain = false;
  m.payload_format.reset();
  m.content_type.reset();
  m.response_topic.reset();
  m.correlation_data.reset();
  m.user_properties.clear();
  m.expiry_at_ms = 0;
  m.origin = 0;
  m.route_key = 0;
  m.log_seq = 0;
}

struct Recycle {
  void operator()(Message* m) const {
    if (t_pools_gone || m->topic.capacity() > kKeepCapacity || m->payload.capacity() > kKeepCapacity) {
      delete m;
      return;
    }
    auto& pool = message_pool();
    if (pool.free.size() >= kPoolMax) Depot<MessagePool>::get().put(pool.free);
    if (pool.free.size() >= kPoolMax) {
      delete m;
      return;
    }
    clear(*m);
    pool.free.push_back(m);
  }
};

}  // namespace

bool message_pooling() { return kPooling; }

std::shared_ptr<Message> make_pooled_message() {
  if constexpr (!kPooling) {
    return std::make_shared<Message>();
  } else {
    Message* m = nullptr;
    if (!t_pools_gone) {
      auto& pool = message_pool();
      if (pool.free.empty()) Depot<MessagePool>::get().take(pool.free);
      if (!pool.free.empty()) {
        m = static_cast<Message*>(pool.free.back());
        pool.free.pop_back();
      }
    }
    if (!m) m = new Message();
    return std::shared_ptr<Message>(m, Recycle{}, BlockAllocator<Message>{});
  }
}

}  // namespace sluice::broker
