// Caller side, slow paths: attaching a thread to the running logger (its ring) and a full ring
// (queue_policy), on the calling thread; the backend offers a larger ring here. A re-entrant call
// from a signal handler goes to the stash (stash.cpp); the rest of a LOG_* call is in call.cpp.
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
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

std::mutex& rings_mutex() noexcept {
  static std::mutex* m = new std::mutex;  // leaked: used at exit
  return *m;
}

namespace {

// Records put into `ring` up to index `written` that the backend has not taken yet.
std::uint64_t unread(const record_ring& ring, std::uint64_t written) noexcept {
  const std::uint64_t r = ring.read.load(std::memory_order_acquire);
  return written > r ? written - r : 0;
}

// The same for the rings from `first` up to, not including, `last`, which their thread has left
// (each says how many it wrote there).
std::uint64_t unread_in_left(const record_ring* first, const record_ring* last) noexcept {
  std::uint64_t n = 0;
  for (const record_ring* x = first; x != nullptr && x != last; x = x->next.load(std::memory_order_acquire))
    n += unread(*x, x->written);
  return n;
}

}  // namespace

std::uint64_t queued_records(std::uint32_t gen) noexcept {
  std::lock_guard<std::mutex> lock(rings_mutex());  // no ring of the chains walked is freed meanwhile
  std::uint64_t n = 0;
  for (producer* p = shared().producers.load(std::memory_order_acquire); p != nullptr; p = p->next) {
    if (p->published_gen.load(std::memory_order_acquire) != gen) continue;
    record_ring* d = p->drain.load(std::memory_order_acquire);
    if (d == nullptr) continue;
    record_ring* newest = d;
    while (record_ring* nx = newest->next.load(std::memory_order_acquire)) newest = nx;
    n += unread_in_left(d, newest) + unread(*newest, p->write.load(std::memory_order_relaxed));
  }
  return n;
}

void wake_backend() noexcept {
  // A full barrier, as the exchange here before had: stop() and reopen() store their request
  // before it, and the backend reads it after announcing its sleep. Cheap next to the futex wake
  // that follows whenever the flag is set (the hot path comes here only then).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::uint32_t seen = g_backend_sleeping.load(std::memory_order_relaxed);
  while (seen != 0) {
    if (seen == wake_crash) {
      // A crash drain has begun (crash.cpp, close_rings). This thread's record is published, but the
      // drain may have finished without it: its LOG_* call must never return, so the thread
      // parks until the process dies. Only the thread handling the crash and the backend go on.
      if (tl_is_backend || crash_owned_by_this_thread()) return;
      static std::uint32_t never_changes = 0;
      for (;;) syscall(SYS_futex, &never_changes, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
    }
    // Only the caller that takes the flag from the backend makes the system call.
    if (g_backend_sleeping.compare_exchange_weak(seen, 0, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&g_backend_sleeping), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
      return;
    }
  }
}

namespace {

// Writes a byte of every page: a page fault on the first lap would cost a LOG_* call
// microseconds, once every 64 records. MAP_POPULATE is not enough: on some kernels and guests
// (the Firecracker guests we measure on) the first write to each populated page still faults,
// about 6 us each (seen as the peer harness's p99.9 of single calls).
void touch_pages(unsigned char* mem, std::size_t bytes) noexcept {
  for (std::size_t at = 0; at < bytes; at += 4096) *reinterpret_cast<volatile unsigned char*>(mem + at) = 0;
}

// A ring's slots come from mmap: page aligned (the slots are cache-line aligned), zeroed (every
// slot starts empty: state word 0) and written once per page (touch_pages). Slots of 2 MiB or
// more are aligned to 2 MiB and asked for transparent huge pages: one TLB entry covers 32 Ki records.
record* map_slots(std::size_t bytes) noexcept {
  constexpr std::size_t huge = std::size_t{2} << 20;
  constexpr int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (bytes < huge || bytes % huge != 0) {
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    touch_pages(static_cast<unsigned char*>(mem), bytes);
    return static_cast<record*>(mem);
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
  touch_pages(mem, bytes);
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
  shared().ring_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return r;
}

void free_ring(record_ring* r) noexcept {
  shared().ring_records.fetch_sub(r->capacity, std::memory_order_relaxed);
  if (!r->released) shared().ring_bytes.fetch_sub(r->map_bytes, std::memory_order_relaxed);
  munmap(r->slots, r->map_bytes);
  delete r;
}

// Frees the rings this thread has left that the backend has left too (it moved `drain` past them):
// neither side touches them again. queued_records() walks the chains under the same lock.
void free_left_rings(producer& p) noexcept {
  if (p.oldest == nullptr || p.oldest == p.drain.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(rings_mutex());
  for (record_ring* d = p.drain.load(std::memory_order_acquire); p.oldest != d;) {
    record_ring* x = p.oldest;
    p.oldest = x->next.load(std::memory_order_relaxed);
    free_ring(x);
  }
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
  p.limit.store(p.write.load(std::memory_order_relaxed) + r->capacity, std::memory_order_relaxed);
}

// This thread moves from its ring to `r`: the backend reads the old one to its end, then follows
// `next` (publishing it comes after every record written into the old one).
void switch_ring(producer& p, record_ring* r, std::uint64_t limit) noexcept {
  record_ring* old = p.ring;
  old->written = p.write.load(std::memory_order_relaxed);
  use_ring(p, r);
  p.limit.store(limit, std::memory_order_relaxed);
  old->next.store(r, std::memory_order_release);
}

// The backend gave this idle ring's memory back: go on in a new small one after it. False when
// memory runs out.
bool leave_retired_ring(producer& p) noexcept {
  record_ring* r = new_ring(std::min<std::uint64_t>(initial_ring_records, shared().capacity));
  if (r == nullptr) return false;
  switch_ring(p, r, r->capacity);
  return true;
}

// Takes the ring the backend offered, if any: the thread moves to it, as when it grows. False
// when there is none (or one made for an older capacity, which is freed).
bool take_spare(producer& p) noexcept {
  if (p.spare.load(std::memory_order_relaxed) == nullptr) return false;
  record_ring* r = p.spare.exchange(nullptr, std::memory_order_acquire);
  if (r == nullptr) return false;
  if (r->capacity > shared().capacity || r->capacity <= p.ring->capacity) {
    free_ring(r);
    return false;
  }
  switch_ring(p, r, 0);  // the caller sets the limit (room_limit)
  shared().rings_enlarged.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Records this thread still has in the rings it left, not yet taken by the backend.
std::uint64_t unread_in_left_rings(const producer& p) noexcept { return unread_in_left(p.oldest, p.ring); }

// How far this thread may write in its ring: the ring's free slots, less (with `block` and `drop`)
// what it still has queued in the rings it left, so it never has more than options::queue_capacity
// records queued in all.
std::uint64_t room_limit(const producer& p) noexcept {
  const std::uint64_t cap = p.ring->capacity;
  std::uint64_t limit = p.ring->read.load(std::memory_order_acquire) + cap;
  if (shared().policy != gidlog::queue_policy::grow && p.oldest != p.ring) {
    const std::uint64_t older = unread_in_left_rings(p);
    const std::uint64_t w = p.write.load(std::memory_order_relaxed);
    limit = limit - w >= older ? limit - older : w;
  }
  return limit;
}

// Attaching allocates (the producer, its ring): a signal handler that logs while this thread is
// in here must not allocate too (claim_slow stashes its record, or drops it while the thread has
// no producer yet).
struct attaching_scope {
  attaching_scope() noexcept { tl_attaching = true; }
  ~attaching_scope() { tl_attaching = false; }
};

// This thread's producer, claimed (or made) and registered for release at thread exit; nullptr
// when memory runs out. The caller holds an attaching_scope.
producer* own_producer() noexcept {
  try {
    producer* p = claim_producer();
    pthread_setspecific(release_key(), p);
    tl_producer = p;
    return p;
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

// A thread that writes synchronously (the logger not running) gets its producer too, without a
// ring: the stash that keeps a signal handler's records during its calls is there.
void adopt_producer() noexcept {
  if (tl_producer != nullptr || tl_exiting) return;
  attaching_scope scope;
  (void)own_producer();
}

// Attaches this thread to generation `gen`: its producer, and a ring the backend of `gen` reads.
// Returns nullptr (write synchronously) when memory runs out.
producer* attach(producer* p, std::uint32_t gen) noexcept {
  attaching_scope scope;
  shared_state& s = shared();
  if (p == nullptr && (p = own_producer()) == nullptr) return nullptr;
  // Kept with the producer, reused by its next thread; a thread that adopted its producer while
  // writing synchronously gets it here (a no-op when the thread has one).
  use_alt_stack(p->alt_stack);
  const std::uint64_t first = std::min<std::uint64_t>(initial_ring_records, s.capacity);
  if (p->ring == nullptr || p->ring_epoch != s.ring_epoch) {
    record_ring* r = new_ring(first);
    if (r == nullptr) return nullptr;
    // The old ring was emptied by the backend that stop() joined, unless that backend was
    // abandoned (stuck in a sink, maybe still reading it): then it is left to it.
    if (p->oldest != nullptr && p->ring_epoch > s.abandoned_epoch) {
      std::lock_guard<std::mutex> lock(rings_mutex());
      for (record_ring* x = p->oldest; x != nullptr;) {
        record_ring* next = x->next.load(std::memory_order_relaxed);
        free_ring(x);
        x = next;
      }
    }
    if (record_ring* sp = p->spare.exchange(nullptr, std::memory_order_acquire)) free_ring(sp);  // for the old capacity
    use_ring(*p, r);
    p->oldest = r;
    p->drain.store(r, std::memory_order_relaxed);
    p->ring_epoch = s.ring_epoch;
  } else if (p->ring->retired.load(std::memory_order_acquire) && !leave_retired_ring(*p)) {
    return nullptr;
  }
  free_left_rings(*p);
  p->gen = gen;
  p->published_gen.store(gen, std::memory_order_release);  // after `drain`, for the backend
  return p;
}

// A full ring is followed by one twice its size: up to options::queue_capacity records, or with
// queue_policy::grow while all rings together stay under grow_max_bytes. The backend reads the
// full one to its end, then moves on; the full one is freed once it has. False when the ring may
// not grow (the caller blocks or drops) or mmap fails.
bool grow(producer& p) noexcept {
  shared_state& s = shared();
  const std::uint64_t cap = p.ring->capacity * 2;
  if (s.policy == gidlog::queue_policy::grow) {
    if (cap > s.capacity && s.ring_records.load(std::memory_order_relaxed) + cap > s.grow_max_records) return false;
  } else if (cap > s.capacity) {
    return false;
  }
  record_ring* r = new_ring(cap);
  if (r == nullptr) return false;
  const std::uint64_t older = unread_in_left_rings(p) + p.ring->capacity;  // the full ring too
  const std::uint64_t limit = s.policy == gidlog::queue_policy::grow ? cap : (s.capacity > older ? std::min(cap, s.capacity - older) : 0);
  switch_ring(p, r, limit);
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

void offer_ring(producer& p, std::uint64_t capacity) noexcept {
  if (p.spare.load(std::memory_order_relaxed) != nullptr) return;
  record_ring* r = new_ring(capacity);
  if (r == nullptr) return;
  record_ring* none = nullptr;
  if (!p.spare.compare_exchange_strong(none, r, std::memory_order_release, std::memory_order_relaxed)) free_ring(r);
}

void drop_spare(producer& p) noexcept {
  if (p.spare.load(std::memory_order_relaxed) == nullptr) return;
  if (record_ring* r = p.spare.exchange(nullptr, std::memory_order_acquire)) free_ring(r);
}

record* claim_slow(bool must_keep, bool& sync, std::uint64_t ceiling) noexcept {
  sync = false;
  producer* p = tl_producer;
  shared_state& s = shared();
  // A signal handler interrupting this thread's own LOG_* call (or its attaching, or its
  // synchronous write): the ring slot, the allocator and the writer lock are not re-entrant, so
  // this record is filled on the handler's stack and write_sync puts it in the stash, which the
  // interrupted call writes when it ends: never mixed into the other. Before the thread has a
  // producer (its first call is making it) there is no stash: dropped and counted.
  if ((p != nullptr && p->busy) || tl_attaching || tl_sync_call) [[unlikely]] {
    if (p == nullptr) {
      s.reentrant.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    ++tl_stashing;  // until write_sync; a handler that interrupts this one adds and takes its own
    sync = true;
    return nullptr;
  }
  unsigned round = 0;
  for (;;) {
    const std::uint32_t gen = g_gen.load(std::memory_order_acquire);
    if (gen == 0 || tl_exiting ||
        (p != nullptr && p->gen != gen && (p = attach(p, gen)) == nullptr) ||
        (p == nullptr && (p = attach(nullptr, gen)) == nullptr)) {
      adopt_producer();     // for its stash
      tl_sync_call = true;  // until write_sync (a handler's LOG_* in between is stashed)
      sync = true;
      return nullptr;
    }
    set_busy(*p, true);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    std::uint64_t w = p->write.load(std::memory_order_relaxed);
    if (w >= p->limit.load(std::memory_order_relaxed)) {
      free_left_rings(*p);
      // A steady writer moves to the larger ring the backend made for it. Otherwise, if the
      // backend gave this idle ring's memory back (and lowered the limit so no call touches it):
      // go on in a new small one. Still busy, so a signal handler's LOG_* does not too.
      if (take_spare(*p)) {
        w = p->write.load(std::memory_order_relaxed);
      } else if (p->ring->retired.load(std::memory_order_acquire) && !leave_retired_ring(*p)) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
        set_busy(*p, false);
        tl_sync_call = true;  // out of memory: this record goes to the synchronous path
        sync = true;
        return nullptr;
      }
      p->limit.store(room_limit(*p), std::memory_order_relaxed);
    }
    if (w < p->limit.load(std::memory_order_relaxed)) {
      if (record* slot = &p->slots[w & p->mask]; stamp_for_generation(p, w, slot, ceiling)) return slot;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      set_busy(*p, false);
      continue;  // stop() began: attach again, or go synchronous
    }
    // No room. Each thread has its own ring, so one thread's backlog never takes another's room.
    // A ring that is itself full grows first (up to queue_capacity, or grow_max_bytes with grow),
    // still marked busy (a signal handler's LOG_* must not grow it too); room taken by the rings
    // this thread left is waited for.
    const bool ring_full = w - p->ring->read.load(std::memory_order_acquire) >= p->ring->capacity;
    const bool grew = ring_full && grow(*p);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    set_busy(*p, false);
    if (grew) {
      // The backend polls too slowly for this thread: wake it if it is in a longer poll.
      wake_backend_for(6);
      continue;
    }
    if (s.policy == gidlog::queue_policy::drop && !must_keep) {
      // Records signal handlers stashed during this call would find no room either: dropped with
      // it (taken while busy, so a handler meanwhile appends to what is dropped or comes after).
      set_busy(*p, true);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      const std::uint8_t in = p->stash_in.load(std::memory_order_relaxed);
      const std::uint64_t stashed = static_cast<std::uint8_t>(in - p->stash_out);
      p->stash_out = in;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      set_busy(*p, false);
      p->dropped.store(p->dropped.load(std::memory_order_relaxed) + 1 + stashed, std::memory_order_relaxed);
      wake_backend_for(6);  // it reports drops
      return nullptr;
    }
    // block (or grow at its cap). If stop() begins meanwhile, the backend drains this ring before
    // it finishes, and the next round sees the new generation.
    wake_backend_for(6);
    backoff(round);
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
