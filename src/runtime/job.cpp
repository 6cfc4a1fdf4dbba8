// Completion, waiting and cancellation of jobs (any thread).
#include <climits>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/pool_core.h"
#include "runtime/registry.h"
#include "runtime/runtime_log.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

thread_local const pool_core* current_worker_pool = nullptr;

namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

// The futex is only the sleeping mechanism; the happens-before edges come from the atomics.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* rel) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, rel, nullptr, 0);
}
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

void log_failure(const job& j, bool unobserved) noexcept {
  if (unobserved) {
    GIDLOG_RT_ERROR_("{}: job {} threw and nobody called get(): {} (submitted at {}:{})", j.owner_, j.id_,
                     exception_text(j.error_), j.loc_.file_name(), j.loc_.line());
  } else {
    GIDLOG_RT_ERROR_("{}: job {} threw: {} (posted at {}:{})", j.owner_, j.id_, exception_text(j.error_),
                     j.loc_.file_name(), j.loc_.line());
  }
}

}  // namespace

static_assert(job::slot_payload == slot_payload_bytes);

void* job::operator new(std::size_t size) {
  return size <= slot_payload ? slot_payload_alloc() : ::operator new(size);
}

void job::operator delete(void* p, std::size_t size) noexcept {
  if (size <= slot_payload) {
    slot_payload_free(p);
  } else {
    ::operator delete(p);
  }
}

bool register_job(job& j, task_state st) noexcept {
  if (j.in_slot_) {
    task_entry* e = entry_of_payload(&j);
    if (!register_in(e, j.owner_, st, j.loc_, j.id_, j.submitter_gid_, j.submit_ticks_)) return false;
    j.entry_ = e;
    j.entry_kind_ = job::entry_kind::own_slot;
  } else {
    j.entry_ = register_task(j.owner_, st, j.loc_, j.id_, j.submitter_gid_, j.submit_ticks_);
    if (j.entry_ == nullptr) return false;
    j.entry_kind_ = job::entry_kind::separate;
  }
  return true;
}

void unregister_job(job& j) noexcept {
  switch (j.entry_kind_) {
    case job::entry_kind::own_slot: mark_unregistered(j.entry_); break;
    case job::entry_kind::separate: unregister_task(j.entry_); break;
    case job::entry_kind::borrowed:
    case job::entry_kind::none: break;
  }
  j.entry_ = nullptr;
  j.entry_kind_ = job::entry_kind::none;
}

void job_complete(job& j, task_state final) noexcept {
  // Leave the registry before publishing: once get() returns, tasks::count() excludes the job.
  unregister_job(j);
  j.phase_.store(final, std::memory_order_release);
  const std::uint32_t old = j.sync_.fetch_or(job::done_bit, std::memory_order_acq_rel);
  if ((old & job::waiters_bit) != 0) futex_wake_all(j.sync_);
  if (final == task_state::failed) {
    if (j.detached_) {
      log_failure(j, false);
    } else if ((old & job::handle_gone_bit) != 0) {
      log_failure(j, true);
    }
  }
}

bool job_drop(job& j, task_state why) noexcept {
  task_state expected = task_state::queued;
  if (!j.phase_.compare_exchange_strong(expected, why, std::memory_order_acq_rel, std::memory_order_acquire)) {
    return false;
  }
  // A bounded pool is alive: this job still counts in its pending_ until on_dropped(). An
  // unbounded pool is not touched: the tombstone is counted when it is taken out of the queue.
  std::shared_ptr<pool_core> pool = j.counted_ ? j.pool_->weak_from_this().lock() : nullptr;
  try {
    const std::string msg = fmt::format("gidlog: job {} of {} {} before it started", j.id_, j.owner_,
                                        why == task_state::timed_out ? "timed out" : "was cancelled");
    j.error_ = why == task_state::timed_out ? std::make_exception_ptr(task_timeout(msg))
                                            : std::make_exception_ptr(task_cancelled(msg));
  } catch (...) {
    static const std::exception_ptr oom_cancelled =
        std::make_exception_ptr(task_cancelled("gidlog: job cancelled before it started"));
    j.error_ = oom_cancelled;
  }
  if (pool) pool->on_dropped();
  job_complete(j, why);
  return true;
}

bool job_wait_until(job& j, std::chrono::steady_clock::time_point deadline) noexcept {
  const bool forever = deadline == std::chrono::steady_clock::time_point::max();
  for (;;) {
    std::uint32_t s = j.sync_.load(std::memory_order_acquire);
    if ((s & job::done_bit) != 0) return true;
    timespec ts{};
    if (!forever) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return false;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    }
    if ((s & job::waiters_bit) == 0) {
      if (!j.sync_.compare_exchange_weak(s, s | job::waiters_bit, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        continue;
      }
      s |= job::waiters_bit;
    }
    futex_wait(j.sync_, s, forever ? nullptr : &ts);
  }
}

void check_not_own_worker(const pool_core* p, const char* what) {
  if (p != nullptr && current_worker_pool == p) {
    throw would_deadlock(fmt::format("{}: called from a worker of {} would wait for itself", what, p->owner_));
  }
}

void job_wait(job& j) {
  if (j.done()) return;
  check_not_own_worker(j.pool_, "gidlog::task::wait/get");
  job_wait_until(j, std::chrono::steady_clock::time_point::max());
}

bool job_cancel(job& j) noexcept {
  if (job_drop(j, task_state::cancelled)) return true;
  if (j.phase_.load(std::memory_order_acquire) == task_state::running) j.stop_.request_stop();
  return false;
}

void job_handle_gone(job& j, bool observed) noexcept {
  if (!observed) {
    const std::uint32_t old = j.sync_.fetch_or(job::handle_gone_bit, std::memory_order_acq_rel);
    if ((old & job::done_bit) != 0 && j.phase_.load(std::memory_order_acquire) == task_state::failed) {
      log_failure(j, true);
      // Destroy the exception here, not in a worker that may drop the job later (see task::get).
      j.error_ = nullptr;
    }
  }
  j.release();
}

void run_stoppable_wait(job& j, std::stop_token st) {
  std::stop_callback on_stop(st, [&j]() noexcept { job_cancel(j); });
  job_wait(j);
}

void run_for_wait(pool_core& p, job& j, std::chrono::steady_clock::time_point deadline) {
  if (job_wait_until(j, deadline)) return;
  if (job_drop(j, task_state::timed_out)) {
    GIDLOG_RT_WARN_("{}: job {} timed out in the queue (run_for) and was dropped", p.owner_, j.id_);
    return;  // get() throws task_timeout
  }
  if (j.done()) return;
  // Running: ask it to stop and wait, so what it captured stays valid.
  j.stop_.request_stop();
  GIDLOG_RT_WARN_("{}: job {} timed out while running (run_for); stop requested", p.owner_, j.id_);
  job_wait_until(j, std::chrono::steady_clock::time_point::max());
  throw task_timeout(fmt::format("gidlog: job {} of {} timed out while running", j.id_, p.owner_));
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
