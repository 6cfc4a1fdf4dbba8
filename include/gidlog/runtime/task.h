#pragma once
// gidlog::task<T>: the move-only handle worker_pool::submit returns, a future with cancel().
//
//   gidlog::task<int> t = pool.submit([] { return 6 * 7; });
//   int v = t.get();          // waits; rethrows the job's exception; task_cancelled if dropped
//
// Failure: get() rethrows what the job threw. A job that never ran completes with
// gidlog::task_cancelled (or task_timeout), never std::future_error. A job exception that no
// get() observed is logged at ERROR by the "gidlog.runtime" logger when the handle is destroyed
// (or when the job finishes, if the handle is gone by then). wait()/get() on an unfinished job
// from a worker of the job's own pool throw gidlog::would_deadlock.
//
// Threading: one handle is used by one thread at a time (like std::future); different handles of
// the same pool may be used from any threads. A handle may outlive its pool.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <cstddef>
#include <functional>
#include <new>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <type_traits>

#include <gidlog/context.h>
#include <utility>

#include <gidlog/runtime/source_location.h>
#include <gidlog/runtime/task_registry.h>

namespace gidlog {
inline namespace v0 {

// The exception a job completes with when it was dropped before it started: task::cancel(),
// close_mode::cancel_queued, or run(f, stop_token) whose token was stopped. Never
// std::future_error/broken_promise.
class task_cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The exception of run_for() whose deadline passed. Derives from task_cancelled, so one
// `catch (const gidlog::task_cancelled&)` handles both.
class task_timeout : public task_cancelled {
 public:
  using task_cancelled::task_cancelled;
};

// Thrown instead of deadlocking: a worker of a pool waits for that same pool (task::get/wait on
// an unfinished job of its own pool, run/run_for on its own pool, join/close_and_join from
// inside).
class would_deadlock : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class worker_pool;

namespace detail {

struct task_entry;  // a slot of the task registry (src/runtime/registry.h)
class pool_core;    // a worker_pool's shared state (src/runtime/pool_core.h)

// One job: its callable, its outcome and its bookkeeping. Internal; fields are public to the
// runtime's sources. Reference counted: the queue holds one reference while the job is queued,
// a task handle holds one.
class job {
 public:
  job(const job&) = delete;
  job& operator=(const job&) = delete;

  // Runs the callable and stores the outcome. Returns true when it returned normally, false when
  // it threw (error_ set). Called at most once, on the thread that claimed the job.
  virtual bool invoke() noexcept = 0;

  // Small jobs live in task-registry slots (src/runtime/registry.h): allocation from a per-thread
  // free list, and the registry header in the same memory. Bigger ones use the global heap.
  static constexpr std::size_t slot_payload = 192;
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;
  static void* operator new(std::size_t size, std::align_val_t al) { return ::operator new(size, al); }
  static void operator delete(void* p, std::size_t size, std::align_val_t al) noexcept {
    static_cast<void>(size);
    ::operator delete(p, al);
  }

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Bits of sync_.
  static constexpr std::uint32_t done_bit = 1;         // outcome published
  static constexpr std::uint32_t waiters_bit = 2;      // someone sleeps on the futex
  static constexpr std::uint32_t handle_gone_bit = 4;  // no get() will observe the outcome

  bool done() const noexcept { return (sync_.load(std::memory_order_acquire) & done_bit) != 0; }

  job* next_ = nullptr;                              // intrusive queue link
  std::atomic<std::uint32_t> refs_;
  std::atomic<task_state> phase_{task_state::queued};  // claimed by CAS: worker vs cancel
  std::atomic<std::uint32_t> sync_{0};               // futex word, bits above
  std::uint64_t id_ = 0;
  pool_core* pool_ = nullptr;                        // alive while the job is queued or running
  const char* owner_ = "";                           // interned owner name, for logs
  // Where the job is registered: nowhere, in the header of its own slot, in a slot of its own
  // (big jobs), or in a slot another component owns and frees (limiter jobs on a pool).
  enum class entry_kind : std::uint8_t { none, own_slot, separate, borrowed };
  task_entry* entry_ = nullptr;
  entry_kind entry_kind_ = entry_kind::none;
  const bool in_slot_;                               // built in a slot's payload
  bool detached_ = false;                            // post(): log a failure at once
  bool counted_ = false;                             // in its pool's pending_ (bounded pools)
  std::uint32_t submitter_gid_ = 0;
  std::int64_t submit_ticks_ = 0;                    // cycle counter (arch/)
  source_location loc_;                         // the submit call
  gidlog::context context_;                          // the submitter's context_scope fields
  std::stop_source stop_{std::nostopstate};          // only for jobs that take a stop_token
  std::exception_ptr error_;

 protected:
  // size and align: of the most derived type, to know whether operator new used a slot.
  job(bool stoppable, std::uint32_t refs, std::size_t size, std::size_t align) noexcept
      : refs_(refs), in_slot_(size <= slot_payload && align <= alignof(std::max_align_t)) {
    if (stoppable) stop_ = std::stop_source();
  }
  virtual ~job() = default;
};

// now() + d on the steady clock, saturating at time_point::max() (a deadline of
// hours::max() means "no deadline" instead of an overflow).
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(const std::chrono::duration<Rep, Period>& d) noexcept {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (d <= d.zero()) return now;
  const auto room = clock::time_point::max() - now;
  if (std::chrono::duration_cast<std::chrono::duration<double>>(d) >=
      std::chrono::duration_cast<std::chrono::duration<double>>(room)) {
    return clock::time_point::max();
  }
  return now + std::chrono::ceil<clock::duration>(d);
}

// Completion and waiting, implemented in src/runtime/job.cpp.
// Blocks until j is done; throws would_deadlock on a worker of j's own pool.
void job_wait(job& j);
// Waits until j is done or the deadline passes; false on timeout. Never throws.
bool job_wait_until(job& j, std::chrono::steady_clock::time_point deadline) noexcept;
// Drops j if it has not started (completes it with task_cancelled); else sends its stop request.
// True when j will never run.
bool job_cancel(job& j) noexcept;
// The handle is going away; observed: get() consumed the outcome. Logs an unobserved failure.
void job_handle_gone(job& j, bool observed) noexcept;
// Throws would_deadlock when the calling thread is a worker of pool p and must not wait for it.
void check_not_own_worker(const pool_core* p, const char* what);

template <class R>
class job_result : public job {
 public:
  std::optional<R> value_;

 protected:
  using job::job;
};

template <>
class job_result<void> : public job {
 protected:
  using job::job;
};

// Stores F; R is the stored result type (void: the result, if any, is discarded).
template <class F, class R>
class job_impl final : public job_result<R> {
 public:
  static constexpr bool takes_token = std::is_invocable_v<F&, std::stop_token>;

  template <class G>
  job_impl(G&& g, std::uint32_t refs)
      : job_result<R>(takes_token, refs, sizeof(job_impl), alignof(job_impl)), f_(std::forward<G>(g)) {}

  bool invoke() noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        static_cast<void>(call());
      } else {
        this->value_.emplace(call());
      }
      return true;
    } catch (...) {
      this->error_ = std::current_exception();
      return false;
    }
  }

 private:
  decltype(auto) call() {
    if constexpr (takes_token) {
      return std::invoke(f_, this->stop_.get_token());
    } else {
      return std::invoke(f_);
    }
  }

  F f_;
};

// The result type of a job callable F: it may take a std::stop_token or nothing.
template <class F>
struct job_result_of {
  static_assert(std::is_invocable_v<std::decay_t<F>&> || std::is_invocable_v<std::decay_t<F>&, std::stop_token>,
                "a job must be callable with no argument or with a std::stop_token");
  using type = typename std::conditional_t<std::is_invocable_v<std::decay_t<F>&, std::stop_token>,
                                           std::invoke_result<std::decay_t<F>&, std::stop_token>,
                                           std::invoke_result<std::decay_t<F>&>>::type;
};

}  // namespace detail

template <class F>
using job_result_t = typename detail::job_result_of<F>::type;

template <class T>
class task {
  static_assert(!std::is_reference_v<T>, "a job must return a value, not a reference");

 public:
  task() noexcept = default;
  task(task&& o) noexcept : j_(std::exchange(o.j_, nullptr)) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      reset(false);
      j_ = std::exchange(o.j_, nullptr);
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(false); }

  // False for a default-constructed or moved-from handle, and after get().
  bool valid() const noexcept { return j_ != nullptr; }

  // The job's id, as in the TRACE records and the task profile. Requires valid().
  std::uint64_t id() const noexcept { return j_->id_; }

  // queued, running, succeeded, failed, cancelled or timed_out. Requires valid().
  task_state state() const noexcept { return j_->phase_.load(std::memory_order_acquire); }

  // True once the outcome is available: get() will not block. Requires valid().
  bool ready() const noexcept { return j_->done(); }

  // Blocks until the job has finished or was dropped. Requires valid().
  void wait() const { detail::job_wait(*j_); }

  // Blocks at most `d`; true when the job is done.
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& d) const {
    return detail::job_wait_until(*j_, detail::deadline_after(d));
  }
  template <class Clock, class Duration>
  bool wait_until(const std::chrono::time_point<Clock, Duration>& t) const {
    return wait_for(t - Clock::now());
  }

  // Waits, then returns the result or rethrows the job's exception (task_cancelled/task_timeout
  // if it never ran). Consumes the handle: valid() is false afterwards.
  T get() {
    detail::job_wait(*j_);
    auto* j = std::exchange(j_, nullptr);
    struct releaser {
      detail::job* j;
      ~releaser() { detail::job_handle_gone(*j, true); }
    } r{j};
    // Moved out: the exception then dies on this thread, never in a worker that drops the job
    // after our catch block ran (that ordering rests on the exception's refcount inside the
    // C++ runtime, which ThreadSanitizer cannot see).
    if (j->error_) std::rethrow_exception(std::exchange(j->error_, nullptr));
    if constexpr (!std::is_void_v<T>) return std::move(*j->value_);
  }

  // Not started: the job is dropped, completes with task_cancelled and cancel() returns true.
  // Running: its std::stop_token (if it takes one) gets a stop request; returns false.
  // Finished: returns false. Requires valid().
  bool cancel() noexcept { return detail::job_cancel(*j_); }

  // Internal: adopts a reference to j.
  explicit task(detail::job_result<T>* j) noexcept : j_(j) {}

 private:
  void reset(bool observed) noexcept {
    if (j_ != nullptr) detail::job_handle_gone(*std::exchange(j_, nullptr), observed);
  }

  friend class worker_pool;
  detail::job_result<T>* j_ = nullptr;
};

}  // namespace v0
}  // namespace gidlog
