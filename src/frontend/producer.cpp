// Caller side, slow paths: attaching a thread to the queue and a full queue.
#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <new>
#include <thread>

#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

constinit shared_state g_shared;

std::uint64_t total_dropped() noexcept {
  std::uint64_t n = 0;
  for (producer* p = shared().producers.load(std::memory_order_acquire); p != nullptr; p = p->next)
    n += p->dropped.load(std::memory_order_relaxed);
  return n;
}

namespace {

using token_t = moodycamel::ProducerToken;

thread_local bool tl_exiting = false;  // this thread's producer was given back: log synchronously

// Gives a thread's producer back when the thread exits, so a new thread can reuse it. A pthread
// key destructor runs after every C++ thread_local destructor of the thread (glibc calls
// __call_tls_dtors first), so a thread_local object that logs from its destructor still logs
// through the queue, behind the thread's earlier records, instead of jumping ahead of them on
// the synchronous path.
void release_producer(void* arg) noexcept {
  auto* p = static_cast<producer*>(arg);
  tl_exiting = true;
  tl_producer = nullptr;
  // The token is destroyed by the next owner (or kept): destroying it here would race with a
  // concurrent restart replacing the queue. An idle token costs nothing to the queue.
  p->in_flight.store(not_in_flight, std::memory_order_release);
  p->in_use.store(false, std::memory_order_release);
}

pthread_key_t release_key() noexcept {
  static pthread_key_t key = [] {
    pthread_key_t k;
    pthread_key_create(&k, release_producer);
    return k;
  }();
  return key;
}

producer* claim_producer() {
  shared_state& s = shared();
  for (producer* p = s.producers.load(std::memory_order_acquire); p != nullptr; p = p->next) {
    bool expected = false;
    if (!p->in_use.load(std::memory_order_relaxed) &&
        p->in_use.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
      return p;
  }
  auto* p = new producer;
  p->in_use.store(true, std::memory_order_relaxed);
  producer* head = s.producers.load(std::memory_order_relaxed);
  do {
    p->next = head;
  } while (!s.producers.compare_exchange_weak(head, p, std::memory_order_release, std::memory_order_relaxed));
  return p;
}

}  // namespace

void reentrant_drop() noexcept { shared().reentrant.fetch_add(1, std::memory_order_relaxed); }

producer* attach_producer() noexcept {
  producer* p = tl_producer;
  if (p != nullptr) p->in_flight.store(not_in_flight, std::memory_order_relaxed);
  if (tl_exiting || tl_attaching) return nullptr;
  // Attaching allocates (the producer, its token): a signal handler that logs while this thread
  // is in here must not allocate too (see write_sync), so it is told by tl_attaching.
  struct attaching_scope {
    attaching_scope() noexcept { tl_attaching = true; }
    ~attaching_scope() { tl_attaching = false; }
  } scope;
  try {
    for (;;) {
      std::uint32_t gen = g_gen.load(std::memory_order_acquire);
      if (gen == 0) return nullptr;
      record_queue* q = shared().queue.load(std::memory_order_acquire);
      if (p == nullptr) {
        p = claim_producer();
        pthread_setspecific(release_key(), p);
        tl_producer = p;
        use_alt_stack(p->alt_stack);  // kept with the producer, reused by its next thread
      }
      if (p->gen != gen) {
        // The old token belongs to a queue that is never freed, so deleting it is safe; the
        // backend of the old generation, which dequeued through it, has been joined.
        delete static_cast<token_t*>(p->token);
        p->token = new token_t(*q);
        p->queue = q;
        p->gen = gen;
        p->published_gen.store(gen, std::memory_order_release);
        p->fresh_token = true;
      }
      // Same protocol as the hot path: publish, then re-check the generation.
      p->in_flight.store(p->last_ts, std::memory_order_relaxed);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      if (g_gen.load(std::memory_order_relaxed) == gen) return p;
      p->in_flight.store(not_in_flight, std::memory_order_relaxed);
    }
  } catch (const std::bad_alloc&) {
    if (p != nullptr) p->in_flight.store(not_in_flight, std::memory_order_relaxed);
    return nullptr;  // the record is written synchronously instead
  }
}

namespace {

void discard(record& r) noexcept {
  if (r.size > record::inline_capacity && r.meta != &nomem_meta) std::free(r.payload.spill);
}

// Waits for room: spin briefly, then yield, then sleep. Returns false if the logger stopped.
void backoff(unsigned& round) noexcept {
  ++round;
  if (round < 64) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  } else if (round < 256) {
    sched_yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

// Out of line and cold: keeps enqueue()'s fast path free of this function's register spills.
[[gnu::noinline, gnu::cold]] void enqueue_slow(producer& p, record& r, bool must_keep) noexcept {
  shared_state& s = shared();
  auto* q = static_cast<record_queue*>(p.queue);
  auto& tok = *static_cast<token_t*>(p.token);
  if (s.policy == gidlog::queue_policy::drop && !must_keep) {
    discard(r);
    p.dropped.store(p.dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return;
  }
  // A token that never enqueued owns no block yet: every preallocated block may sit with the
  // threads already logging. Waiting for the queue to drain below half would hold this thread's
  // first record (and the backend's time order) for as long as the others keep it full.
  const bool newcomer = p.fresh_token;
  p.fresh_token = false;
  unsigned round = 0;
  for (;;) {
    if (q->try_enqueue(tok, r)) return;
    // grow: allocate while under the memory cap.
    if (s.policy == gidlog::queue_policy::grow && q->size_approx() < s.grow_max_records) {
      try {
        if (q->enqueue(tok, r)) return;
      } catch (...) {
      }
    }
    // block: the preallocated blocks may all belong to other threads' tokens (moodycamel keeps
    // a block with the producer that first took it, even empty). If the queue is far from full
    // we are starved, not backlogged: allocate one block for this thread. Memory stays bounded
    // by capacity plus one block per starved thread.
    if (round > 256 && (newcomer || q->size_approx() < s.capacity / 2)) {
      bool ok = false;
      try {
        ok = q->enqueue(tok, r);
      } catch (...) {
      }
      if (ok) return;
    }
    // If stop() began while we waited, the backend keeps draining until we are out of flight,
    // so the queue still makes room: keep trying.
    backoff(round);
  }
}

}  // namespace

void enqueue(producer& p, record& r) noexcept {
  auto* q = static_cast<record_queue*>(p.queue);
  if (q->try_enqueue(*static_cast<token_t*>(p.token), r)) [[likely]] return;
  enqueue_slow(p, r, r.meta == &flush_meta);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
