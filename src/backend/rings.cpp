// Taking records from the rings, on the backend thread: one pass over the producers (take_pass)
// copies each one's records in order into the backend's pending list, following a ring to the
// next when its thread moved on; a thread that logs fast is offered a larger ring; an idle large
// ring's memory goes back to the kernel (retire_idle_rings).
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <iterator>

#include "backend/backend_state.h"

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

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

// An idle ring larger than the first is given back after this long without records.
constexpr std::int64_t retire_after_ns = 1'000'000'000;

}  // namespace

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

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
