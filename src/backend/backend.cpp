// The backend thread: bulk dequeue, merge producers by timestamp, format, write, flush.
#include "backend/backend.h"

#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <chrono>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <gidlog/gid.h>
#include <gidlog/arch/cpu.h>

#include "backend/clock.h"
#include "backend/writer.h"
#include "core/thread_origin.h"
#include "sinks/sigpipe.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

const record_meta flush_meta{nullptr, nullptr, 0, false, nullptr};
const record_meta nomem_meta{nullptr, nullptr, 0, false, nullptr};

namespace {

// An allocator that leaves elements default-initialised (not zeroed) on resize(): the backend
// grows `pending` by a batch and copies the records from a ring straight into it.
template <class T>
struct uninit_allocator : std::allocator<T> {
  using std::allocator<T>::allocator;
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(args)...);
  }
};
using pending_records = std::vector<record, uninit_allocator<record>>;

constinit site_info drop_site{gidlog::level::warn, 0, "gidlog", "gidlog", "backend", nullptr,
                              "gidlog: {} records dropped"};

struct backend_state {
  backend_state(std::unique_ptr<writer> w, const options& opt, std::uint32_t generation, std::uint64_t drops_before)
      : wr(std::move(w)), sleep(opt.backend_sleep), idle_after(opt.backend_idle),
        poll_ns(opt.backend_sleep.count() * 1000),
        poll_max_ns(std::max(opt.backend_sleep, opt.backend_sleep_max).count() * 1000),
        poll_wake(opt.flush_on == gidlog::level::off ? 0 : wake_any - static_cast<std::uint32_t>(opt.flush_on)),
        gen(generation),
        max_pending(std::max<std::size_t>(2 * opt.queue_capacity, 1 << 16)), reported_drops(drops_before) {}
  std::unique_ptr<writer> wr;
  std::chrono::microseconds sleep;
  std::chrono::microseconds idle_after;  // without records this long: sleep until woken
  // The poll interval while records come: between sleep and poll_max_ns (see "Sleeping").
  std::int64_t poll_ns;
  std::int64_t poll_max_ns;
  std::uint32_t poll_wake;  // g_backend_sleeping during a longer poll: flush_on levels wake it
  std::uint32_t poll_fill = 0;  // the fullest ring since the last sleep, in 256ths of its capacity
  std::uint32_t gen;                // the backend reads the rings of producers attached to it
  std::size_t max_pending;          // see run(): past it, records are written before the watermark
  tsc_clock clock;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<std::uint32_t> finished{0};  // run() returned (a futex word: stop() waits on it)
  std::atomic<std::uint64_t> backlog{0};  // records taken but not yet written (for stop's report)
  std::atomic<pid_t> tid{0};
  std::uint64_t reported_drops;  // drops counted before start() were reported by the last backend
  std::int64_t last_wall = INT64_MIN;
  // Records dequeued and not yet written: [head, size) is sorted by timestamp. Kept here, not in
  // run()'s frame, so the crash handler can finish them when the backend itself crashes.
  pending_records pending;
  std::size_t head = 0;
  std::atomic<std::size_t> writing{SIZE_MAX};  // index in pending being written, for the crash drain
  bool crash_taken = false;
  void* alt_stack = nullptr;
  std::int64_t last_record_ns = 0;  // CLOCK_MONOTONIC of the last pass that took a record
};

backend_state* g_backend = nullptr;  // current or last; swapped under the writer lock
bool g_forked_child = false;

writer& stderr_writer() {
  static writer* w = [] {
    options o;
    o.sinks = {console_sink(console_stream::err)};
    return new writer(o);  // leaked: used before start() and at exit
  }();
  return *w;
}

void free_payload(record& r) noexcept {
  if (r.size > record::inline_capacity && r.meta != &nomem_meta) std::free(r.payload.spill);
}

// Merges the sorted runs of pending[from, end) (each producer's records arrive in order) into
// one run, stably, so records with equal timestamps keep their per-thread order.
void merge_runs(pending_records& v, std::size_t from) {
  auto by_ts = [](const record& a, const record& b) { return a.ts < b.ts; };
  std::vector<std::size_t> bounds{from};
  for (std::size_t i = from + 1; i < v.size(); ++i)
    if (v[i].ts < v[i - 1].ts) bounds.push_back(i);
  bounds.push_back(v.size());
  while (bounds.size() > 2) {
    std::vector<std::size_t> next{bounds[0]};
    std::size_t k = 0;
    for (; k + 2 < bounds.size(); k += 2) {
      std::inplace_merge(v.begin() + static_cast<std::ptrdiff_t>(bounds[k]),
                         v.begin() + static_cast<std::ptrdiff_t>(bounds[k + 1]),
                         v.begin() + static_cast<std::ptrdiff_t>(bounds[k + 2]), by_ts);
      next.push_back(bounds[k + 2]);
    }
    if (k + 1 < bounds.size() && next.back() != bounds.back()) next.push_back(bounds.back());
    bounds.swap(next);
  }
}

void report_drops(backend_state& b, std::uint64_t ticks) {
  std::uint64_t total = total_dropped();
  if (total <= b.reported_drops) return;
  record r{};
  r.meta = &meta_v<&drop_site, std::uint64_t>;
  r.ts = ticks;
  r.gid = gidlog::gid();
  std::uint64_t n = total - b.reported_drops;
  r.size = sizeof n;
  std::memcpy(r.payload.bytes, &n, sizeof n);
  b.reported_drops = total;
  b.wr->write(r, std::max(b.last_wall, b.clock.to_ns(ticks)));
}

void write_record(backend_state& b, const record& r) {
  std::int64_t wall = b.clock.to_ns(r.ts);
  // A recalibration may move the mapping back by a little: never print a record before the one
  // above it. A clock step (NTP, settimeofday) is a jump of more than a second: printed as is.
  if (wall < b.last_wall && b.last_wall - wall < 1'000'000'000) wall = b.last_wall;
  b.last_wall = wall;
  b.wr->write_prepared(r, wall);
}

// Writes one record, or serves a flush request; an exception (bad_alloc, say) is reported and
// the loop goes on, and a flush request is always answered.
void write_one(backend_state& b, record& r) noexcept {
  const bool is_flush = r.meta == &flush_meta;
  try {
    if (is_flush) b.wr->flush_all();
    else write_record(b, r);
  } catch (const std::exception& e) {
    char msg[256];
    std::snprintf(msg, sizeof msg, "could not write a record: %s", e.what());
    b.wr->report(msg);
  } catch (...) {
    b.wr->report("could not write a record: unknown exception");
  }
  if (is_flush) {
    flush_request* req;
    std::memcpy(&req, r.payload.bytes, sizeof req);
    req->done.store(1, std::memory_order_release);
    req->done.notify_all();
  } else {
    free_payload(r);
  }
}

// Gives a ring's pages back to the kernel: the backend does, once no thread writes it again (its
// producer frees the ring itself later, or never if the thread is gone). Counted once.
void give_back(record_ring& ring) noexcept {
  (void)madvise(ring.slots, ring.map_bytes, MADV_DONTNEED);
  if (!ring.released) shared().ring_bytes.fetch_sub(ring.map_bytes, std::memory_order_relaxed);
  ring.released = true;
}

// Whether the slot for read index `r` of `ring` carries r's lap: a record is being written or is
// published there (its state word in `word`).
bool holds_record(record_ring& ring, std::uint64_t r, std::uint64_t& word) noexcept {
  word = slot_word(ring.slots[r & (ring.capacity - 1)]).load(std::memory_order_acquire);
  return (word & 1) == lap_tag(r, ring.capacity - 1);
}

// Takes up to `limit` records from the ring(s) of p into the end of pending; lowers `watermark`
// to the stamp of a slot being written. Follows a ring to the next once it is empty (the producer
// frees the ones left behind). Reads the slots only: the lines the producer writes are never
// owned by this core.
std::size_t take_from(backend_state& b, producer& p, std::size_t limit, std::uint64_t& watermark, bool& any_in_flight) {
  record_ring* ring = p.drain.load(std::memory_order_relaxed);
  if (ring->retired.load(std::memory_order_acquire)) {  // empty, its slots given back: never read them
    record_ring* next = ring->next.load(std::memory_order_acquire);
    if (next == nullptr) return 0;
    // A call that raced with the retirement may have faulted a page of it back in with its stamp.
    give_back(*ring);
    ring = next;
    p.drain.store(ring, std::memory_order_release);  // the owner frees the retired one
  }
  std::uint64_t r = ring->read.load(std::memory_order_relaxed);
  const std::uint64_t capacity = ring->capacity;
  const std::size_t at = b.pending.size();
  b.pending.resize(at + limit);
  record* out = b.pending.data() + at;
  std::size_t n = 0;
  while (n < limit) {
    std::uint64_t word;
    if (holds_record(*ring, r, word)) {
      if ((word & slot_ready) == 0) {  // being written: its record is no older than the stamp
        any_in_flight = true;
        watermark = std::min(watermark, word >> 2);
        break;
      }
      std::memcpy(static_cast<void*>(out + n), &ring->slots[r & (ring->capacity - 1)], sizeof(record));
      out[n].ts = word >> 2;
      ++r;
      ++n;
      continue;
    }
    record_ring* next = ring->next.load(std::memory_order_acquire);
    if (next == nullptr) break;
    // The producer wrote its last record here before publishing `next`: look once more.
    if (holds_record(*ring, r, word)) continue;
    ring->read.store(r, std::memory_order_relaxed);
    // Nobody writes or reads this ring again: its pages go back now, even if its thread, which
    // frees it, never logs again.
    give_back(*ring);
    ring = next;
    p.drain.store(ring, std::memory_order_release);
    r = 0;
  }
  ring->read.store(r, std::memory_order_release);  // the producer may reuse the slots taken
  b.pending.resize(at + n);
  // How full the ring was (a take cut short by `limit` counts as full): the poll interval's gauge.
  const std::uint64_t fill = n == limit ? 256 : n * 256 / capacity;
  b.poll_fill = std::max(b.poll_fill, static_cast<std::uint32_t>(std::min<std::uint64_t>(fill, 256)));
  return n;
}

// A thread that laps its ring many times a second writes, at every call, slots the backend has
// just read: each store waits for the line to come back from the backend's core. Such a thread
// gets a ring holding a quarter of a second of its records (up to queue_capacity), so the lines
// it writes were last read long ago and are out of the backend's caches. The backend makes the
// ring (offer_ring): the thread's calls never wait for mmap or page faults.
constexpr std::int64_t rate_window_ns = 100'000'000;

void consider_larger_ring(producer& p, std::size_t n, std::int64_t now) noexcept {
  p.rate_taken += n;
  if (p.rate_since_ns == 0) p.rate_since_ns = now;
  const std::int64_t span = now - p.rate_since_ns;
  if (span < rate_window_ns) return;
  const double per_second = static_cast<double>(p.rate_taken) * 1e9 / static_cast<double>(span);
  p.rate_taken = 0;
  p.rate_since_ns = now;
  const auto quarter = static_cast<std::uint64_t>(per_second / 4);
  const std::uint64_t want = std::min(std::bit_ceil(std::max<std::uint64_t>(quarter, 1)), shared().capacity);
  if (want >= 4 * p.drain.load(std::memory_order_relaxed)->capacity) offer_ring(p, want);
}

// One pass over the producers of this generation: takes up to `per_producer` records from each
// (their own FIFO) straight into the end of pending, and lowers `watermark` to what may still come:
//  - a producer in the middle of a LOG_* call may still commit a record as old as its slot's stamp;
//  - a producer that still had records left (it gave `per_producer`) may hold records as old as
//    the last one taken from it.
// So a backlog larger than one pass never lets a newer record of one thread out before an older
// one of another. Returns the number of records taken.
std::size_t take_pass(backend_state& b, std::size_t per_producer, std::uint64_t& watermark, bool& any_in_flight) {
  std::size_t got = 0;
  std::int64_t now = 0;
  for (producer* p = shared().producers.load(std::memory_order_acquire); p != nullptr; p = p->next) {
    if (p->published_gen.load(std::memory_order_acquire) != b.gen) continue;
    const std::size_t n = take_from(b, *p, per_producer, watermark, any_in_flight);
    if (n != 0) {
      if (now == 0) now = monotonic_ns();
      consider_larger_ring(*p, n, now);
    }
    if (n != 0 && p->idle_since_ns != 0) p->idle_since_ns = 0;  // in use: not idle (retire_idle_rings)
    if (n == per_producer) watermark = std::min(watermark, b.pending.back().ts);
    got += n;
  }
  return got;
}

void write_range(backend_state& b, std::size_t end) {
  if (end == b.head) return;
  try {
    b.wr->prepare(b.clock.to_ns(b.pending[end - 1].ts));  // a failing reopen is reported by the writer
  } catch (...) {
  }
  const std::size_t taken = b.pending.size();
  for (std::size_t i = b.head; i < end; ++i) {
    b.writing.store(i, std::memory_order_relaxed);
    b.backlog.store(taken - i, std::memory_order_relaxed);  // taken from the rings, not yet written
    write_one(b, b.pending[i]);
  }
  b.writing.store(SIZE_MAX, std::memory_order_relaxed);
  b.head = end;
}

void compact(backend_state& b) {
  if (b.head == b.pending.size()) {
    b.pending.clear();
    b.head = 0;
  } else if (b.head > 8192 && b.head > b.pending.size() / 2) {
    b.pending.erase(b.pending.begin(), b.pending.begin() + static_cast<std::ptrdiff_t>(b.head));
    b.head = 0;
  }
}

// ---- Sleeping -------------------------------------------------------------------------------
//
// While records come, the backend polls the rings every options::backend_sleep, or up to
// options::backend_sleep_max while they come slowly (poll_sleep). After options::backend_idle
// without one it sleeps on the futex g_backend_sleeping until something needs it, so an idle
// logger costs no CPU and no wake-ups:
//
//   backend: g_backend_sleeping = 7; membarrier(); look at every ring; futex_wait(7)
//   caller:  publish the slot (release store); load g_backend_sleeping; if above 6 - level:
//            compare-exchange it to 0, futex_wake
//
// The caller pays one load of a line only the backend writes, and the system call only when the
// backend sleeps. No record is missed: membarrier(2) runs a full barrier on every CPU running a
// thread of the process, so a caller either published before it (the backend's look sees the
// record) or loads the flag after it (and sees 7). A record stamped but not yet published keeps
// the backend awake: its caller loads the flag after publishing. stop(), reopen() and a drop wake
// it the same way. Without membarrier (old kernels, qemu-user) the backend never sleeps longer
// than fallback_sleep_ns, and still wakes at once when a caller sees the flag.
//
// A crash drain uses the same flag the other way round (crash.cpp, close_rings): it sets 8,
// wake_crash, which every level sees, runs membarrier, and only then asks the backend to drain and
// wakes it. A caller that sees 8 parks for good in wake_backend(), so a LOG_* call that returned
// published its record before the barrier, and the drain's passes, all after it, see it. Nobody
// takes 8 or writes over it: the backend changes the flag only by compare-exchange.

constexpr std::int64_t fallback_sleep_ns = 1'000'000;
// An idle ring larger than the first is given back after this long without records.
constexpr std::int64_t retire_after_ns = 1'000'000'000;

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t timeout_ns) noexcept {
  timespec t{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          timeout_ns >= 0 ? &t : nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

// True when a record is published or being written in some ring of this generation.
bool rings_hold_records(const backend_state& b) noexcept {
  for (producer* p = shared().producers.load(std::memory_order_acquire); p != nullptr; p = p->next) {
    if (p->published_gen.load(std::memory_order_acquire) != b.gen) continue;
    record_ring* ring = p->drain.load(std::memory_order_relaxed);
    if (ring->retired.load(std::memory_order_acquire)) {
      ring = ring->next.load(std::memory_order_acquire);
      if (ring == nullptr) continue;
    }
    std::uint64_t word;
    if (holds_record(*ring, ring->read.load(std::memory_order_relaxed), word)) return true;
    if (ring->next.load(std::memory_order_acquire) != nullptr) return true;  // its owner moved on: look again
  }
  return false;
}

bool wanted(const backend_state& b) noexcept {
  const crash_drain& crash = shared().crash;
  return b.stop.load(std::memory_order_acquire) || crash.requested.load(std::memory_order_acquire) != 0 ||
         shared().reopen_requested.load(std::memory_order_acquire) || total_dropped() > b.reported_drops;
}

// Sleeps until a caller (or stop(), a crash, reopen()) wakes it, or for `timeout_ns` (< 0: no limit).
// Never over wake_crash: a crash drain set it, and every caller must keep seeing it. The drain
// wakes the backend only after it asked for the drain, so one that saw wake_crash naps at most
// fallback_sleep_ns instead of sleeping on it.
void sleep_until_woken(backend_state& b, std::int64_t timeout_ns) noexcept {
  std::uint32_t flag = g_backend_sleeping.load(std::memory_order_relaxed);
  while (flag != wake_crash &&
         !g_backend_sleeping.compare_exchange_weak(flag, wake_any, std::memory_order_seq_cst, std::memory_order_relaxed)) {
  }
  const std::uint32_t asleep = flag == wake_crash ? wake_crash : wake_any;
  const bool barrier = process_barrier();
  if ((!barrier || asleep == wake_crash) && (timeout_ns < 0 || timeout_ns > fallback_sleep_ns)) timeout_ns = fallback_sleep_ns;
  if (!wanted(b) && !rings_hold_records(b)) futex_wait(g_backend_sleeping, asleep, timeout_ns);
  std::uint32_t expected = wake_any;  // a caller may have taken it (0), or a crash set wake_crash
  g_backend_sleeping.compare_exchange_strong(expected, 0, std::memory_order_relaxed);
}

// Sleeps one poll interval while records come. The interval doubles, up to poll_max_ns, while
// every poll finds each ring less than a quarter full, and falls back to options::backend_sleep
// when one is half full. In a longer sleep, records at flush_on and above wake the backend (and a
// ring that had to grow, or is full): no membarrier is needed, since the timeout bounds the wait.
void poll_sleep(backend_state& b) noexcept {
  const std::int64_t base = b.sleep.count() * 1000;
  if (b.poll_fill >= 128) b.poll_ns = base;
  else if (b.poll_fill < 64) b.poll_ns = std::min(b.poll_ns * 2, b.poll_max_ns);
  b.poll_fill = 0;
  // Changed with a compare-exchange from the value seen, never over wake_crash (a crash drain's).
  std::uint32_t flag = g_backend_sleeping.load(std::memory_order_relaxed);
  if (b.poll_ns <= base) {
    if (flag != 0 && flag != wake_crash) g_backend_sleeping.compare_exchange_strong(flag, 0, std::memory_order_relaxed);
    std::this_thread::sleep_for(b.sleep);
    return;
  }
  if (flag != b.poll_wake && flag != wake_crash) {
    // A caller took it meanwhile, or a crash set wake_crash: look at the rings again at once.
    if (!g_backend_sleeping.compare_exchange_strong(flag, b.poll_wake, std::memory_order_relaxed)) return;
    flag = b.poll_wake;
  }
  if (flag == 0) {  // flush_on off: no record wakes this poll
    std::this_thread::sleep_for(std::chrono::nanoseconds(b.poll_ns));
    return;
  }
  futex_wait(g_backend_sleeping, flag, b.poll_ns);
}

// Gives back the memory of each ring larger than the first that has been empty for
// retire_after_ns (its thread stopped logging after a burst, or exited). The ring is marked
// retired and its producer's limit lowered to its write index (the hot path compares `write <
// limit`), then membarrier(2): a producer that is not inside a LOG_* call and published nothing
// meanwhile can never write that ring again, since its next call finds no room, sees the mark and
// moves to a new small ring without touching the slots. Then the slots go back to the kernel
// (MADV_DONTNEED); the ring itself is freed by its producer once it moved on. If the producer was
// in a call, the mark is taken back (the lowered limit only costs it one slow path). Returns the
// time (CLOCK_MONOTONIC) when the next ring falls due, or INT64_MAX.
std::int64_t retire_idle_rings(backend_state& b, std::int64_t now) noexcept {
  std::int64_t next_due = INT64_MAX;
  producer* marked[64];
  std::size_t n = 0;
  for (producer* p = shared().producers.load(std::memory_order_acquire); p != nullptr; p = p->next) {
    if (p->published_gen.load(std::memory_order_acquire) != b.gen) continue;
    // Only the ring's own lines are read here (the slot the backend reads next anyway): the
    // producer's line, which every LOG_* call writes, is left alone until a ring falls due.
    record_ring* ring = p->drain.load(std::memory_order_relaxed);
    const bool small = ring->capacity <= initial_ring_records;
    if ((small && p->spare.load(std::memory_order_relaxed) == nullptr) || ring->retired.load(std::memory_order_relaxed) ||
        ring->next.load(std::memory_order_acquire) != nullptr) {
      p->idle_since_ns = 0;
      continue;
    }
    const std::uint64_t r = ring->read.load(std::memory_order_relaxed);
    std::uint64_t word;
    if (holds_record(*ring, r, word)) {
      p->idle_since_ns = 0;  // a record published or being written: not idle
      continue;
    }
    if (p->idle_since_ns == 0) p->idle_since_ns = now;
    if (now - p->idle_since_ns < retire_after_ns || n == std::size(marked)) {
      next_due = std::min(next_due, p->idle_since_ns + retire_after_ns);
      continue;
    }
    const std::uint64_t w = p->write.load(std::memory_order_acquire);
    if (w != r) {
      p->idle_since_ns = 0;
      continue;
    }
    drop_spare(*p);  // made for a rate it no longer logs at
    if (small) {
      p->idle_since_ns = 0;
      continue;
    }
    ring->retired.store(true, std::memory_order_relaxed);
    p->limit.store(w, std::memory_order_relaxed);
    marked[n++] = p;
  }
  if (n == 0) return next_due;
  const bool barrier = process_barrier();
  for (std::size_t i = 0; i < n; ++i) {
    producer* p = marked[i];
    record_ring* ring = p->drain.load(std::memory_order_relaxed);
    p->idle_since_ns = 0;
    if (!barrier || std::atomic_ref<bool>(p->busy).load(std::memory_order_acquire) ||
        p->write.load(std::memory_order_acquire) != ring->read.load(std::memory_order_relaxed)) {
      // In a LOG_* call, or it logged meanwhile: keep the ring (its owner may still move away from
      // it if it saw the mark; either way the records in it are read as usual).
      ring->retired.store(false, std::memory_order_release);
      continue;
    }
    give_back(*ring);
    shared().rings_retired.fetch_add(1, std::memory_order_relaxed);
  }
  return next_due;
}

void run(backend_state& b) {
  pthread_setname_np(pthread_self(), "gidlog-backend");
  tl_is_backend = true;
  b.tid.store(static_cast<pid_t>(gidlog::gid()), std::memory_order_release);  // any first-use check happens before we hold locks
  use_alt_stack(b.alt_stack);
  block_sigpipe_on_this_thread();  // a reader gone from a pipe sink is an EPIPE error, not death
  b.pending.reserve(1024);
  crash_drain& crash = shared().crash;
  b.last_record_ns = monotonic_ns();

  for (;;) {
    const bool stopping = b.stop.load(std::memory_order_acquire);
    const bool crashing = crash.requested.load(std::memory_order_acquire) != 0 &&
                          crash.done.load(std::memory_order_relaxed) == 0;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t now = arch::cycles();
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // The cycle counter's rate is measured over the backend's life so far: until the window
    // reaches 2 ms it is measured again at every pass (no wait at start: a short-lived process
    // writes its few records at once).
    b.clock.warm_up(2'000'000);
    // Records stay in `pending` until no producer can still enqueue an older one: 20 us covers a
    // store buffer draining; preemption is covered by the producers' in_flight stamps.
    const auto margin = static_cast<std::uint64_t>(20'000.0 / b.clock.ns_per_tick());
    // A crash writes everything there is: no margin, and in-flight stamps only until the deadline.
    std::uint64_t watermark = crashing ? UINT64_MAX : now - margin;
    bool in_flight = false;

    const std::size_t before = b.pending.size();
    std::size_t got = 0;
    const bool took = before - b.head < b.max_pending;
    if (took) got = take_pass(b, 2048, watermark, in_flight);
    b.backlog.store(b.pending.size() - b.head, std::memory_order_relaxed);  // out of the rings now
    if (crashing && !b.crash_taken) {
      b.crash_taken = true;
      if (crash.rec.meta != nullptr) b.pending.push_back(crash.rec);
      ++got;
    }
    if (got != 0) merge_runs(b.pending, b.head < before ? b.head : before);
    if (crashing && in_flight && monotonic_ns() > crash.deadline_ns) {
      watermark = UINT64_MAX;  // a thread stopped mid-LOG_* (the crashing one, say) is not waited for
      in_flight = false;
    }

    const bool final_drain = stopping && took && !in_flight && got == 0;  // every ring empty
    std::size_t end = b.head;
    if (final_drain) {
      end = b.pending.size();
    } else {
      while (end < b.pending.size() && b.pending[end].ts < watermark) ++end;
      // pending is full and nothing may be written: a producer has been stalled mid-LOG_* (or its
      // thread stopped) for longer than it took the others to log max_pending records. Writing
      // the older half now keeps memory bounded; that stalled record may then land out of order.
      if (end == b.head && b.pending.size() - b.head >= b.max_pending) end = b.head + (b.pending.size() - b.head) / 2;
    }
    // The request was made after the crash's membarrier (crash.cpp, close_rings), so a pass that
    // saw it and found every ring empty has taken every record whose LOG_* call may return.
    const bool crash_complete = crashing && took && !in_flight && end == b.pending.size() && got == 0;

    {
      std::lock_guard<std::mutex> lock(writer_mutex());
      try {
        write_range(b, end);
        report_drops(b, now);
        if (got == 0) {
          b.wr->on_idle();
          b.clock.maybe_recalibrate(now);
        }
        if (final_drain || crash_complete) b.wr->flush_all();
      } catch (const std::exception& e) {
        b.wr->report(std::string("backend error: ") + e.what());
      } catch (...) {
        b.wr->report("backend error: unknown exception");
      }
    }
    if (crash_complete) crash.done.store(1, std::memory_order_release);
    // Every record older than the watermark is written now (when this pass took from the queue):
    // context snapshots retired before it can go.
    if (took && !crashing) context_reclaim(watermark);
    compact(b);
    b.backlog.store(b.pending.size() - b.head, std::memory_order_relaxed);
    if (final_drain) break;
    if (got != 0 || crashing) {
      b.last_record_ns = 0;
      continue;  // more may be waiting: look again at once
    }
    const std::int64_t mono = monotonic_ns();
    if (b.last_record_ns == 0) b.last_record_ns = mono;
    const std::int64_t due = retire_idle_rings(b, mono);
    const bool all_written = b.head == b.pending.size() && !in_flight;
    if (all_written && !stopping && mono - b.last_record_ns >= b.idle_after.count() * 1000) {
      // Idle: sleep until woken, or until a ring falls due for retirement or a failing sink for
      // its next retry.
      std::int64_t until = due;
      if (const std::int64_t retry = b.wr->next_retry_ns(); retry != INT64_MAX)
        until = std::min(until, mono + std::max<std::int64_t>(retry - tsc_clock::realtime_ns(), 0));
      sleep_until_woken(b, until == INT64_MAX ? -1 : std::max<std::int64_t>(until - mono, 0));
      b.clock.recalibrate();  // the wall clock may have been stepped or slewed meanwhile
      b.last_record_ns = monotonic_ns();  // poll a while after waking, whatever woke it
      b.poll_ns = b.sleep.count() * 1000;  // at the shortest interval: a burst may follow
    } else if (b.sleep.count() > 0) {
      poll_sleep(b);
    } else {
      std::this_thread::yield();
    }
  }
  b.finished.store(1, std::memory_order_release);
  futex_wake_all(b.finished);
}

}  // namespace

void backend_start(std::unique_ptr<writer> w, const options& opt, std::uint32_t gen) {
  // Drops before this point were reported by the last backend, or happened while stopped (none:
  // stopped, records go to the synchronous path); every later one reaches this backend's report.
  auto* b = new backend_state(std::move(w), opt, gen, total_dropped());
  backend_state* old;
  {
    // Synchronous writers use g_backend's writer under this lock: swapping it here means none is
    // still inside the old one when it is deleted.
    std::lock_guard<std::mutex> lock(writer_mutex());
    old = g_backend;
    g_backend = b;
  }
  // Its thread was joined by stop(); a backend stop() gave up on, or one inherited through
  // fork(), is left alone (its thread may still be inside a sink, or not exist).
  if (old != nullptr && !g_forked_child && old->finished.load(std::memory_order_acquire) != 0) delete old;
  g_forked_child = false;
  b->thread = start_named_thread("gidlog-backend", source_location::current(), "gidlog backend", [b] { run(*b); });
}

bool backend_stop(std::chrono::milliseconds timeout, std::uint64_t& left) noexcept {
  left = 0;
  backend_state* b = g_backend;
  if (b == nullptr || g_forked_child) return true;
  b->stop.store(true, std::memory_order_release);
  wake_backend();
  if (timeout.count() > 0) {
    const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(timeout.count()) * 1'000'000;
    while (b->finished.load(std::memory_order_acquire) == 0) {
      const std::int64_t now = monotonic_ns();
      if (now >= deadline) {
        // Queued, dequeued but not written, and handed to a sink that never got them out.
        left = b->backlog.load(std::memory_order_relaxed) + queued_records(b->gen) + b->wr->unflushed();
        b->thread.detach();  // stuck in a sink: it dies with the process
        return false;
      }
      futex_wait(b->finished, 0, deadline - now);  // run() wakes it as it returns
    }
  }
  if (b->thread.joinable()) b->thread.join();
  return true;
}

void flush_sync() noexcept {
  if (tl_in_sync_write) return;
  std::lock_guard<std::mutex> lock(writer_mutex());
  try {
    if (g_backend != nullptr) g_backend->wr->flush_all();
    else stderr_writer().flush_all();
  } catch (...) {
  }
}

void backend_forget_writer_after_fork() noexcept {
  g_backend = nullptr;  // leaked: its writer may be mid-write; the child writes to stderr instead
  g_forked_child = true;
}

void backend_forget_after_fork() noexcept {
  g_forked_child = true;  // the thread object is left alone: no thread behind it in the child
  if (g_backend != nullptr) g_backend->wr->after_fork_child();
}

std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

// Writes r now, under the writer lock, to the current or last sinks (stderr before any start()).
void write_now(record& r) noexcept {
  try {
    writer& w = g_backend != nullptr ? *g_backend->wr : stderr_writer();
    w.write(r, tsc_clock::realtime_ns());
    w.flush_all();
  } catch (...) {
  }
}

}  // namespace

void write_sync(record& r) noexcept {
  if (tl_stashing != 0) {
    // A signal handler's LOG_* inside this thread's LOG_* call (claim_slow said so): the call it
    // interrupted writes it when it ends. Not kept when it cannot be (see stash_record): counted.
    if (!stash_record(r)) {
      shared().reentrant.fetch_add(1, std::memory_order_relaxed);
      free_payload(r);
    }
    --tl_stashing;
    return;
  }
  // claim_slow() set tl_sync_call when it sent this record here (a signal handler's LOG_* from
  // then on is stashed, so this thread's allocation of the record and its lock are never
  // re-entered); it ends with this call, after which the stash is written.
  if (tl_in_sync_write || tl_attaching) {  // not reached: such a call is stashed (kept as a guard)
    shared().reentrant.fetch_add(1, std::memory_order_relaxed);
    free_payload(r);
    return;
  }
  shared_state& s = shared();
  if (!tl_is_backend && s.phase.load(std::memory_order_acquire) == lifecycle_phase::draining) {
    // stop() is writing what this thread queued before: wait for it, so this record comes after.
    const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(s.stop_timeout.count() + 100) * 1'000'000;
    while (s.phase.load(std::memory_order_acquire) == lifecycle_phase::draining && monotonic_ns() < deadline) {
      timespec d{0, 200'000};
      nanosleep(&d, nullptr);
    }
  }
  // Then the records signal handlers stashed during this call (and during these writes), right
  // after it and under the same hold of the lock.
  auto write_with_stashed = [&r] {
    write_now(r);
    for (record h; take_stashed(h);) {
      write_now(h);
      free_payload(h);
    }
  };
  tl_in_sync_write = true;
  if (s.phase.load(std::memory_order_acquire) == lifecycle_phase::abandoned) {
    // The last backend is stuck inside a sink, holding the lock: do not join it there.
    if (writer_mutex().try_lock()) {
      write_with_stashed();
      writer_mutex().unlock();
    } else {
      s.unwritten.fetch_add(1, std::memory_order_relaxed);
    }
  } else {
    std::lock_guard<std::mutex> lock(writer_mutex());
    write_with_stashed();
  }
  tl_in_sync_write = false;
  free_payload(r);
  tl_sync_call = false;
  // A handler that came after the last look above (the unlock, the free) stashed its record; one
  // from here on writes its own. As in commit(): cleared first, then looked at.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (stash_pending()) write_stashed();
}

// ---- crash support ------------------------------------------------------------------------------

bool backend_is_this_thread() noexcept { return tl_is_backend; }

bool backend_alive() noexcept {
  backend_state* b = g_backend;
  return b != nullptr && !g_forked_child && b->finished.load(std::memory_order_acquire) == 0 &&
         shared().phase.load(std::memory_order_acquire) != lifecycle_phase::abandoned;
}

namespace {
sigjmp_buf g_self_drain_jmp;
std::atomic<bool> g_self_drain_armed{false};
}  // namespace

bool crash_resume_self_drain() noexcept {
  if (!g_self_drain_armed.load(std::memory_order_acquire) || !tl_is_backend) return false;
  siglongjmp(g_self_drain_jmp, 1);
}

void backend_crash_drain_self(std::int64_t deadline_ns) noexcept {
  backend_state& b = *g_backend;
  crash_drain& crash = shared().crash;
  // The crash hit this thread inside a batch. If a sink crashed, it is skipped from now on and the
  // record is written again to the others (a sink before it in the list gets it twice: accepted);
  // if it came from elsewhere (formatting), that record is skipped.
  auto resume_after_crash = [&b] {
    std::size_t at = b.writing.load(std::memory_order_relaxed);
    const bool sink_crashed = b.wr->disable_crashed_sink();
    if (at != SIZE_MAX && at >= b.head && at < b.pending.size()) b.head = sink_crashed ? at : at + 1;
    b.writing.store(SIZE_MAX, std::memory_order_relaxed);
  };
  resume_after_crash();
  if (crash.rec.meta != nullptr) {
    b.pending.push_back(crash.rec);
    merge_runs(b.pending, b.head);
  }
  // A second crash while draining lands here (crash_resume_self_drain): same rule.
  if (sigsetjmp(g_self_drain_jmp, 1) != 0) resume_after_crash();
  g_self_drain_armed.store(true, std::memory_order_release);
  for (;;) {
    std::uint64_t watermark = UINT64_MAX;
    bool in_flight = false;
    const std::size_t before = b.pending.size();
    std::size_t got = take_pass(b, 1024, watermark, in_flight);
    if (got != 0) merge_runs(b.pending, b.head < before ? b.head : before);
    if (monotonic_ns() > deadline_ns) watermark = UINT64_MAX;
    std::size_t end = b.head;
    while (end < b.pending.size() && b.pending[end].ts < watermark) ++end;
    write_range(b, end);
    if (got == 0 && end == b.pending.size()) break;
    if (monotonic_ns() > deadline_ns && got == 0) break;
  }
  try {
    b.wr->flush_all();
  } catch (...) {
  }
  g_self_drain_armed.store(false, std::memory_order_release);
  crash.done.store(1, std::memory_order_release);
}

void write_crash_record_sync(record& r, std::int64_t deadline_ns) noexcept {
  bool locked = false;
  while (!(locked = writer_mutex().try_lock()) && monotonic_ns() < deadline_ns) {
    timespec d{0, 1'000'000};
    nanosleep(&d, nullptr);
  }
  write_now(r);
  if (locked) writer_mutex().unlock();
}

backend_view view_backend(std::chrono::milliseconds wait) {
  backend_view v;
  v.running = shared().phase.load(std::memory_order_acquire) == lifecycle_phase::running;
  v.now_ns = tsc_clock::realtime_ns();
  if (v.running) v.queued = queued_records(g_gen.load(std::memory_order_acquire));
  std::unique_lock<std::mutex> lock(writer_mutex(), std::defer_lock);
  const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(wait.count()) * 1'000'000;
  while (!lock.try_lock()) {
    if (monotonic_ns() >= deadline) {
      v.writer_busy = true;
      return v;
    }
    timespec d{0, 1'000'000};
    nanosleep(&d, nullptr);
  }
  const backend_state* b = g_backend;
  if (b == nullptr || g_forked_child) return v;
  v.pending = b->backlog.load(std::memory_order_relaxed);
  v.last_written_ns = b->last_wall == INT64_MIN ? 0 : b->last_wall;
  for (std::size_t i = 0; i < b->wr->sink_count(); ++i)
    v.sinks.push_back({b->wr->sink_at(i), b->wr->backlog_bytes(i), b->wr->dropped(i), b->wr->failures(i)});
  return v;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
