// Synchronous writes, on the calling thread: a record that cannot be queued (no backend, the
// logger stopping, a call from inside a LOG_* call) is written at once under the writer lock, to
// the current or last sinks, or to stderr before any start(); and flush_sync().
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "backend/backend_state.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

std::atomic<bool> g_exit_hold{false};
std::atomic<std::int64_t> g_exit_hold_wait_ns{0};
thread_local bool tl_exit_holder = false;

bool held_from_this_thread() noexcept {
  return g_exit_hold.load(std::memory_order_acquire) && !tl_exit_holder;
}

// Under `lock`: lets it go while the exit hold lasts, at most g_exit_hold_wait_ns; then (still
// here: the process has not ended) ends the hold for every thread and takes the lock again.
void wait_out_exit_hold(std::unique_lock<std::mutex>& lock) noexcept {
  lock.unlock();
  const std::int64_t deadline = monotonic_ns() + g_exit_hold_wait_ns.load(std::memory_order_relaxed);
  while (g_exit_hold.load(std::memory_order_acquire) && monotonic_ns() < deadline) {
    timespec d{0, 1'000'000};
    nanosleep(&d, nullptr);
  }
  g_exit_hold.store(false, std::memory_order_release);
  lock.lock();
}

}  // namespace

void exit_hold_writes(std::chrono::milliseconds wait) noexcept {
  // stop() gave up on a backend stuck in a sink, holding the lock: the synchronous writes only
  // try it (write_sync), and waiting for it here would only make the exit later.
  if (shared().phase.load(std::memory_order_acquire) == lifecycle_phase::abandoned) return;
  const std::int64_t wait_ns = static_cast<std::int64_t>(wait.count()) * 1'000'000;
  g_exit_hold_wait_ns.store(wait_ns, std::memory_order_relaxed);
  // Set under the lock, so a write that began before has ended (bounded: a stuck sink may hold it).
  const std::int64_t deadline = monotonic_ns() + wait_ns;
  bool locked = false;
  while (!(locked = writer_mutex().try_lock()) && monotonic_ns() < deadline) {
    timespec d{0, 200'000};
    nanosleep(&d, nullptr);
  }
  tl_exit_holder = true;
  g_exit_hold.store(true, std::memory_order_release);
  if (locked) writer_mutex().unlock();
}

void flush_sync() noexcept {
  if (tl_in_sync_write) return;
  std::lock_guard<std::mutex> lock(writer_mutex());
  if (held_from_this_thread()) return;  // each synchronous write flushed already
  try {
    if (g_backend != nullptr) g_backend->wr->flush_all();
    else stderr_writer().flush_all();
  } catch (...) {
  }
}

// Writes r now, under the writer lock, to the current or last sinks (stderr before any start()).
void write_now(record& r) noexcept {
  try {
    writer& w = g_backend != nullptr ? *g_backend->wr : stderr_writer();
    w.write(r, tsc_clock::realtime_ns());
    w.flush_all();
  } catch (...) {
  }
}

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
    std::unique_lock<std::mutex> lock(writer_mutex());
    if (held_from_this_thread()) wait_out_exit_hold(lock);
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

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
