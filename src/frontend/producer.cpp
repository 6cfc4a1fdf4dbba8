// Caller side, slow paths: attaching a thread to the running logger (its ring), a full ring
// (queue_policy), a re-entrant call from a signal handler.
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

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

std::uint64_t queued_records(std::uint32_t gen) noexcept {
  std::uint64_t n = 0;
  for (producer* p = shared().producers.load(std::memory_order_acquire); p != nullptr; p = p->next) {
    if (p->published_gen.load(std::memory_order_acquire) != gen) continue;
    record_ring* d = p->drain.load(std::memory_order_acquire);
    if (d == nullptr) continue;
    // Past a grow, `write` counts in the newest ring: the older ones are counted as full.
    std::uint64_t w = p->write.load(std::memory_order_relaxed);
    std::uint64_t r = d->read.load(std::memory_order_relaxed);
    for (record_ring* x = d; x->next.load(std::memory_order_acquire) != nullptr; x = x->next.load(std::memory_order_acquire)) {
      n += x->capacity;
      r = 0;
    }
    n += w >= r ? w - r : 0;
  }
  return n;
}

namespace {

// A ring's slots come from mmap: page aligned (the slots are cache-line aligned), zeroed (every
// slot starts empty: state word 0) and populated at once: a page fault on the first lap would
// cost a LOG_* call microseconds, once every 64 records. Slots of 2 MiB or more are aligned to
// 2 MiB and asked for transparent huge pages: one TLB entry covers 32 Ki records.
record* map_slots(std::size_t bytes) noexcept {
  constexpr std::size_t huge = std::size_t{2} << 20;
  constexpr int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (bytes < huge || bytes % huge != 0) {
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, flags | MAP_POPULATE, -1, 0);
    return mem == MAP_FAILED ? nullptr : static_cast<record*>(mem);
  }
  void* raw = mmap(nullptr, bytes + huge, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + huge - 1) & ~(huge - 1);
  if (aligned > start) munmap(raw, aligned - start);
  if (const std::uintptr_t end = start + bytes + huge; end > aligned + bytes)
    munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
  auto* mem = reinterpret_cast<unsigned char*>(aligned);
  (void)madvise(mem, bytes, MADV_HUGEPAGE);  // a hint: 4 KiB pages if THP is off
  for (std::size_t at = 0; at < bytes; at += 4096) *reinterpret_cast<volatile unsigned char*>(mem + at) = 0;
  return reinterpret_cast<record*>(mem);
}

record_ring* new_ring(std::uint64_t capacity) noexcept {
  const std::size_t bytes = capacity * sizeof(record);
  record* slots = map_slots(bytes);
  if (slots == nullptr) return nullptr;
  auto* r = new (std::nothrow) record_ring;
  if (r == nullptr) {
    munmap(slots, bytes);
    return nullptr;
  }
  r->capacity = capacity;
  r->slots = slots;
  r->map_bytes = bytes;
  shared().ring_records.fetch_add(capacity, std::memory_order_relaxed);
  return r;
}

void free_ring(record_ring* r) noexcept {
  shared().ring_records.fetch_sub(r->capacity, std::memory_order_relaxed);
  munmap(r->slots, r->map_bytes);
  delete r;
}

thread_local bool tl_exiting = false;  // this thread's producer was given back: log synchronously

// Gives a thread's producer back when the thread exits, so a new thread can reuse it (and its
// ring, which the backend keeps draining). A pthread key destructor runs after every C++
// thread_local destructor of the thread (glibc calls __call_tls_dtors first), so a thread_local
// object that logs from its destructor still logs through the ring, behind the thread's earlier
// records, instead of jumping ahead of them on the synchronous path.
void release_producer(void* arg) noexcept {
  auto* p = static_cast<producer*>(arg);
  tl_exiting = true;
  tl_producer = nullptr;
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

void use_ring(producer& p, record_ring* r) noexcept {
  p.ring = r;
  p.slots = r->slots;
  p.mask = r->capacity - 1;
  p.write.store(r->read.load(std::memory_order_acquire), std::memory_order_relaxed);  // an empty ring
  p.limit = p.write.load(std::memory_order_relaxed) + r->capacity;
}

// Attaches this thread to generation `gen`: its producer, and a ring the backend of `gen` reads.
// Returns nullptr (write synchronously) when memory runs out.
producer* attach(producer* p, std::uint32_t gen) noexcept {
  // Attaching allocates (the producer, its ring): a signal handler that logs while this thread is
  // in here must not allocate too (claim_slow drops its record).
  struct attaching_scope {
    attaching_scope() noexcept { tl_attaching = true; }
    ~attaching_scope() { tl_attaching = false; }
  } scope;
  shared_state& s = shared();
  try {
    if (p == nullptr) {
      p = claim_producer();
      pthread_setspecific(release_key(), p);
      tl_producer = p;
      use_alt_stack(p->alt_stack);  // kept with the producer, reused by its next thread
    }
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  if (p->ring == nullptr || p->ring_epoch != s.ring_epoch) {
    record_ring* r = new_ring(s.capacity);
    if (r == nullptr) return nullptr;
    // The old ring was emptied by the backend that stop() joined, unless that backend was
    // abandoned (stuck in a sink, maybe still reading it): then it is left to it.
    if (p->oldest != nullptr && p->ring_epoch > s.abandoned_epoch) {
      for (record_ring* x = p->oldest; x != nullptr;) {
        record_ring* next = x->next.load(std::memory_order_relaxed);
        free_ring(x);
        x = next;
      }
    }
    use_ring(*p, r);
    p->oldest = r;
    p->drain.store(r, std::memory_order_relaxed);
    p->ring_epoch = s.ring_epoch;
  }
  p->gen = gen;
  p->published_gen.store(gen, std::memory_order_release);  // after `drain`, for the backend
  return p;
}

// queue_policy::grow: a ring twice as large follows the full one; the backend reads the full one
// to its end, then moves on. False at the memory cap (the caller blocks) or when mmap fails.
bool grow(producer& p) noexcept {
  shared_state& s = shared();
  const std::uint64_t cap = p.ring->capacity * 2;
  if (s.ring_records.load(std::memory_order_relaxed) + cap > s.grow_max_records) return false;
  record_ring* r = new_ring(cap);
  if (r == nullptr) return false;
  record_ring* full = p.ring;
  use_ring(p, r);
  full->next.store(r, std::memory_order_release);  // after every record written into `full`
  return true;
}

// Waits for room: spin briefly, then yield, then sleep.
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

}  // namespace

record* claim_slow(bool must_keep, bool& sync) noexcept {
  sync = false;
  producer* p = tl_producer;
  shared_state& s = shared();
  // A signal handler interrupting this thread's own LOG_* call (or its attaching, or its
  // synchronous write): the ring slot, the allocator and the writer lock are not re-entrant, so
  // this record is dropped and counted, never mixed into the other.
  if ((p != nullptr && p->busy) || tl_attaching || tl_sync_call) [[unlikely]] {
    s.reentrant.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  unsigned round = 0;
  for (;;) {
    const std::uint32_t gen = g_gen.load(std::memory_order_acquire);
    if (gen == 0 || tl_exiting || (p != nullptr && p->gen != gen && (p = attach(p, gen)) == nullptr) ||
        (p == nullptr && (p = attach(nullptr, gen)) == nullptr)) {
      tl_sync_call = true;  // until write_sync (a handler's LOG_* in between is dropped)
      sync = true;
      return nullptr;
    }
    p->busy = true;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const std::uint64_t w = p->write.load(std::memory_order_relaxed);
    if (w == p->limit) p->limit = p->ring->read.load(std::memory_order_acquire) + p->ring->capacity;
    if (w != p->limit) {
      if (record* slot = stamp_for_generation(p, w)) return slot;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      p->busy = false;
      continue;  // stop() began: attach again, or go synchronous
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
    p->busy = false;
    // The ring is full. Each thread has its own, so one thread's backlog never takes another's room.
    if (s.policy == gidlog::queue_policy::drop && !must_keep) {
      p->dropped.store(p->dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return nullptr;
    }
    if (s.policy == gidlog::queue_policy::grow && grow(*p)) continue;
    // block (or grow at its cap). If stop() begins meanwhile, the backend drains this ring before
    // it finishes, and the next round sees the new generation.
    backoff(round);
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
