#pragma once
// State shared by the caller side and the backend: the queue, the producer registry, the
// counters, and the few backend entry points the caller side may reach (the synchronous paths).
// Only src/ includes this (moodycamel stays out of the public headers). frontend/ and backend/
// both include core/, never each other.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/concurrent_queue.h"

#include <gidlog/detail/frontend.h>
#include <gidlog/options.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

struct queue_traits : moodycamel::ConcurrentQueueDefaultTraits {
  // 128 records (8 KiB at 64 B) per block: fewer block switches on the hot path.
  static const size_t BLOCK_SIZE = 128;
  // Block-index entries an explicit producer starts with. try_enqueue cannot grow the index, so
  // this caps one thread's backlog at 1024 blocks (128 Ki records) without allocating.
  static const size_t EXPLICIT_INITIAL_INDEX_SIZE = 1024;
};

// The queue's element. In a ThreadSanitizer build it tells TSan about the slot hand-off, which
// moodycamel orders with relaxed atomics and standalone fences that TSan does not model: a slot is
// written by a producer (new T(r) in enqueue) and read by the backend (out = std::move(slot) in
// dequeue), then reused for another record once the block is empty. Each copy into or out of a
// slot acquires the slot before touching it and releases it after, so both directions (write then
// read, and read then the next write of a reused block) are ordered for TSan, and everything the
// producer wrote before enqueueing (a spilled payload) is ordered before the backend's reads.
// This needs no suppression, so it works whether or not TSan can symbolize its stacks. Outside
// TSan it is `record` itself and costs nothing.
#if defined(__SANITIZE_THREAD__)
#define GIDLOG_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GIDLOG_DETAIL_TSAN 1
#endif
#endif
#ifdef GIDLOG_DETAIL_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
struct queued_record : record {
  queued_record() noexcept = default;
  queued_record(const record& r) noexcept { copy_from(r); }  // NOLINT: implicit, as record's
  queued_record(const queued_record& r) noexcept { copy_from(r); }  // NOLINT: copy_from initialises
  queued_record& operator=(const queued_record& r) noexcept {
    copy_from(r);
    return *this;
  }

 private:
  // Either side may be the slot; annotating both addresses covers both directions.
  void copy_from(const record& r) noexcept {
    void* from = const_cast<record*>(&r);
    __tsan_acquire(from);
    __tsan_acquire(this);
    std::memcpy(static_cast<void*>(static_cast<record*>(this)), &r, sizeof(record));
    __tsan_release(this);
    __tsan_release(from);
  }
};
#else
using queued_record = record;
#endif
using record_queue = moodycamel::ConcurrentQueue<queued_record, queue_traits>;

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

struct shared_state {
  std::atomic<record_queue*> queue{nullptr};  // this generation's queue; old ones are leaked
  std::size_t capacity = 0;                   // records preallocated in `queue`
  gidlog::queue_policy policy = gidlog::queue_policy::block;
  std::size_t grow_max_records = 0;

  std::atomic<producer*> producers{nullptr};  // push-only list; entries live forever

  // counters (gidlog::get_counters)
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> sink_errors{0};
  std::atomic<std::uint64_t> format_errors{0};
  std::atomic<std::uint64_t> nomem{0};
  std::atomic<std::uint64_t> unwritten{0};
  std::atomic<std::uint64_t> sink_dropped{0};
  std::atomic<std::uint64_t> reentrant{0};

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

// Sum of every producer's drop counter.
std::uint64_t total_dropped() noexcept;

// A flush() in the queue: the backend flushes every sink, then sets `done` and wakes the caller.
struct flush_request {
  std::atomic<std::uint32_t> done{0};
};

// Per-thread states that decide whether a LOG_* may take the synchronous path: a signal handler
// that interrupts this thread inside one of them must not allocate or lock, so its record is
// dropped and counted (shared().reentrant) instead.
inline thread_local bool tl_attaching = false;     // in attach_producer (allocates)
inline thread_local bool tl_in_sync_write = false;  // in write_sync (holds the writer lock)
inline thread_local bool tl_is_backend = false;     // the backend thread itself

// Gives this thread an alternate signal stack (so the crash handler runs even on a stack
// overflow), unless it has one; `slot` keeps the memory for reuse (mmap'ed once, never freed).
void use_alt_stack(void*& slot) noexcept;

// Implemented by the backend (src/backend/backend.cpp), called on the caller's thread while the
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
