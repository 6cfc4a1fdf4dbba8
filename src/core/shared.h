#pragma once
// State shared by the caller side and the backend: the producer registry (each producer owns
// the ring its records travel in, see detail/frontend.h), the counters, and the few backend
// entry points the caller side may reach (the synchronous paths). Only src/ includes this.
// frontend/ and backend/ both include core/, never each other.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>

#include <gidlog/detail/frontend.h>
#include <gidlog/options.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// A producer generation no logger ever has (g_gen is 0 while stopped, else a start() number).
inline constexpr std::uint32_t detached_gen = UINT32_MAX;

enum class lifecycle_phase : std::uint8_t {
  stopped,    // no backend: LOG_* writes synchronously
  running,    // the backend thread serves the queue
  draining,   // stop() is waiting for the backend to write what is queued: synchronous writers
              // wait for it, so a thread's queued records come before its synchronous ones
  abandoned,  // stop() gave up on a backend stuck in a sink: synchronous writers do not wait
};

// A crash (or LOG_FATAL) asks the backend to write everything queued, then the crash record, now.
struct crash_drain {
  std::atomic<std::uint32_t> requested{0};  // set once, by the thread that handles the crash
  std::atomic<std::uint32_t> done{0};       // set by the backend once written and flushed
  record rec{};                             // the FATAL record (meta == nullptr: none)
  std::int64_t deadline_ns = 0;             // CLOCK_MONOTONIC: stop waiting for in-flight stamps
};

// True on the thread handling a crash, a stop signal or LOG_FATAL's drain (src/lifecycle/crash.cpp);
// async-signal-safe. wake_backend() lets it, and no other thread but the backend, go on once
// the drain has begun.
bool crash_owned_by_this_thread() noexcept;

struct shared_state {
  std::uint64_t capacity = 0;  // records per thread's ring: options::queue_capacity rounded up to 2^n
  gidlog::queue_policy policy = gidlog::queue_policy::block;
  std::size_t grow_max_records = 0;  // queue_policy::grow: records in all rings together, at most
  std::atomic<std::uint64_t> ring_records{0};  // records in every live ring (what grow counts)
  // A thread attached in an older epoch gets a new ring: bumped by start() when the capacity
  // changed or the last backend was abandoned (it may still read the old rings: never freed).
  std::uint32_t ring_epoch = 1;
  std::uint32_t abandoned_epoch = 0;  // rings of this epoch or older may be read by a lost backend

  std::atomic<producer*> producers{nullptr};  // push-only list; entries live forever

  // counters (gidlog::get_counters)
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> sink_errors{0};
  std::atomic<std::uint64_t> format_errors{0};
  std::atomic<std::uint64_t> nomem{0};
  std::atomic<std::uint64_t> unwritten{0};
  std::atomic<std::uint64_t> sink_dropped{0};
  std::atomic<std::uint64_t> reentrant{0};
  std::atomic<std::uint64_t> ring_bytes{0};     // slots' memory not yet given back
  std::atomic<std::uint64_t> rings_retired{0};
  std::atomic<std::uint64_t> rings_enlarged{0};  // offer_ring's rings a thread moved to

  // Set by gidlog::reopen() (async-signal-safe); the backend asks every sink to reopen.
  std::atomic<bool> reopen_requested{false};

  // Where the logger is in its life; the synchronous paths read it (see write_sync).
  std::atomic<lifecycle_phase> phase{lifecycle_phase::stopped};
  std::chrono::milliseconds stop_timeout{5000};  // options::stop_timeout of the last start()

  crash_drain crash;
};

// The one instance: constant-initialised and trivially destructible, so threads may log during
// static initialisation and destruction.
extern constinit shared_state g_shared;
inline shared_state& shared() noexcept { return g_shared; }

// A full memory barrier on every running thread of the process (membarrier(2), registered at the
// first start()). False when the kernel (or qemu-user) does not have it: the caller then must not
// rely on it (the backend then never sleeps for longer than a poll, nor retires rings).
bool process_barrier() noexcept;

// Serialises freeing a ring with queued_records() walking the rings (never taken on the hot path).
std::mutex& rings_mutex() noexcept;

// A larger ring for a thread that laps its own many times a second, made by the backend (mmap
// and page population stay off the thread's LOG_* calls) and taken by the thread at its next slow
// path (producer.cpp). offer_ring does nothing when one is already offered or memory runs out;
// drop_spare frees an offered ring not yet taken.
void offer_ring(producer& p, std::uint64_t capacity) noexcept;
void drop_spare(producer& p) noexcept;

// Sum of every producer's drop counter.
std::uint64_t total_dropped() noexcept;
// Records in the rings of generation `gen`, not yet taken by the backend (an estimate while
// threads log).
std::uint64_t queued_records(std::uint32_t gen) noexcept;


// A flush() in the queue: the backend flushes every sink, then sets `done` and wakes the caller.
struct flush_request {
  std::atomic<std::uint32_t> done{0};
};

// Per-thread states that decide whether a LOG_* may take the synchronous path: a signal handler
// that interrupts this thread inside one of them (or while its producer is busy) must not
// allocate, lock or touch the ring, so its record goes to the producer's stash instead
// (stash_record), and the interrupted call writes it when it ends (write_stashed).
inline thread_local bool tl_attaching = false;     // in claim_slow, attaching (allocates)
inline thread_local bool tl_sync_call = false;     // between claim_slow's "synchronous" answer and write_sync
inline thread_local bool tl_in_sync_write = false;  // in write_sync (holds the writer lock)
inline thread_local bool tl_is_backend = false;     // the backend thread itself
// Signal handlers' LOG_* calls between claim_slow's "stash" answer and write_sync (they nest: a
// handler may interrupt another). Non-zero: the record being filled is for the stash.
inline thread_local std::uint8_t tl_stashing = 0;

// A handler's record, filled on its stack, into this thread's stash. False when it cannot be kept
// (no producer yet, the stash full, or arguments that needed the heap): the caller counts it in
// shared().reentrant. Async-signal-safe.
bool stash_record(const record& r) noexcept;
// The stash's oldest record, taken out of it (false: empty). The caller must own the thread's
// calls (busy, tl_sync_call or tl_in_sync_write set): a handler then only appends.
bool take_stashed(record& out) noexcept;
// True when this thread's stash holds records.
inline bool stash_pending() noexcept {
  const producer* p = tl_producer;
  return p != nullptr && p->stash_in.load(std::memory_order_relaxed) != p->stash_out;
}

// Gives this thread an alternate signal stack (so the crash handler runs even on a stack
// overflow), unless it has one; `slot` keeps the memory for reuse (mmap'ed once, never freed).
void use_alt_stack(void*& slot) noexcept;

// Implemented by the backend (src/backend/sync_write.cpp), called on the caller's thread while the
// logger is not running: flushes the current or last sinks under the writer lock.
void flush_sync() noexcept;

// Context snapshots (src/core/context.cpp) that no scope holds any more are freed once no queued
// record can point at them. The backend calls this after writing every record older than
// `written_before` (cycle counter); stop() calls context_reclaim_all() after the final drain.
void context_reclaim(std::uint64_t written_before) noexcept;
void context_reclaim_all() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
