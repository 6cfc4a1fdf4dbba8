#pragma once
// gidlog::worker_pool: a fixed, resizable set of worker threads fed through one queue (tunny's
// Process/ProcessTimed/ProcessCtx/SetSize/QueueLength/Close with ants' non-blocking submit and
// stats), logging its own activity through the "gidlog.runtime" logger (see runtime_log.h).
//
//   gidlog::worker_pool pool({.name = "requests", .threads = 4, .max_queue = 1024});
//   gidlog::task<int> t = pool.submit([] { return 42; });   // future-like handle
//   pool.post([] { handle_request(); });                    // fire and forget
//   int v = pool.run([] { return 1; });                     // synchronous, like tunny Process
//   pool.close();                                           // no new jobs; queued ones still run
//   pool.join();                                            // wait for them; also in ~worker_pool
//
// Jobs: any callable taking no argument or a std::stop_token, returning a value or void. The
// callable is moved (or copied) into the pool; capture by value what must outlive the call.
// Jobs start in the order they were queued (FIFO). A job whose callable and result fit in 64
// bytes (80 with g++) lives in a task-registry slot, allocated without malloc; bigger ones use
// the heap.
// A job that takes a std::stop_token gets a stop request from task::cancel(), from run_for's
// deadline, from run(f, stop_token)'s token and from close_and_join's timeout.
//
// Failure: a job's exception never kills its worker: submit() jobs hand it to task::get();
// post() jobs have it logged at ERROR at once. Submitting after close() throws pool_closed.
// With overflow::reject a full queue makes submit/post/run throw pool_full and try_submit/
// try_post return empty/false; with overflow::block (the default) they wait for room.
//
// Threading: every member may be called from any thread concurrently, including from the pool's
// own jobs, except that a worker must not wait for its own pool (run, run_for, join,
// close_and_join, task::get/wait of a job of the same pool throw would_deadlock there), and that
// the destructor must not race with other calls. A worker submitting to its own pool is never
// blocked by a full queue (it could wait for itself): its job is queued beyond max_queue.
//
// Each job is registered in gidlog::tasks with the source_location of the submit call.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>

#include <gidlog/runtime/source_location.h>
#include <gidlog/runtime/task.h>
#include <gidlog/runtime/task_registry.h>

namespace gidlog {
inline namespace v0 {

// Thrown by worker_pool submit/post/run after close() (or during destruction).
class pool_closed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by worker_pool::submit/post/run when the queue is full and the pool's overflow policy
// is overflow::reject (try_submit/try_post report it by return value instead).
class pool_full : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a full queue (max_queue reached) does to a submitter.
enum class overflow : std::uint8_t {
  block,   // wait for room (shown as "blocked in submit" in the task profile)
  reject,  // submit/post/run throw pool_full; try_submit/try_post fail; logged at WARN
};

// What close() does with jobs that have not started yet.
enum class close_mode : std::uint8_t {
  drain,          // they still run; workers exit when the queue is empty
  cancel_queued,  // they complete with task_cancelled without running
};

struct pool_options {
  // In every record the pool logs and in the task registry (owner `pool "name"`).
  std::string name = "pool";
  // Worker threads; 0 means std::thread::hardware_concurrency() (at least 1). Change later with
  // resize().
  std::size_t threads = 0;
  // Jobs that may wait in the queue (not started); 0 means unbounded.
  std::size_t max_queue = 0;
  // What submitters do when max_queue jobs are waiting.
  overflow on_full = overflow::block;
  // A job running longer than this is logged at WARN when it finishes; 0 disables the check.
  std::chrono::nanoseconds slow_job_warn{0};
  // Register this pool's jobs in gidlog::tasks (also subject to tasks::set_registration).
  bool register_tasks = true;
};

// Counters since the pool was created; a consistent-enough snapshot (each field is read once,
// not all at the same instant).
struct pool_stats {
  std::uint64_t submitted = 0;  // accepted into the queue
  std::uint64_t started = 0;    // claimed by a worker
  std::uint64_t succeeded = 0;  // returned normally
  std::uint64_t failed = 0;     // threw
  std::uint64_t cancelled = 0;  // dropped before starting (cancel, cancel_queued, timeouts)
  std::uint64_t rejected = 0;   // refused because the queue was full (overflow::reject, try_*)
  std::size_t queued = 0;       // waiting to start now
  std::size_t busy = 0;         // workers running a job now
  std::size_t idle = 0;         // workers waiting for a job now
  std::chrono::nanoseconds max_queue_wait{};  // longest submit-to-start time seen
  std::chrono::nanoseconds total_run_time{};  // sum of all jobs' run times
};

namespace detail {
// Puts j (which holds one reference for the queue) in p's queue. try_only: never block, never
// throw pool_full; returns false when full. Otherwise applies the overflow policy, blocking at
// most until `deadline` (then throws task_timeout). Throws pool_closed after close. On false or
// throw, j's references are untouched and j is not registered.
bool pool_enqueue(pool_core& p, job* j, const source_location& loc, bool try_only,
                  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
// run_for: waits for j until the deadline; then drops it if queued, or requests its stop and
// waits for it if running, and throws task_timeout.
void run_for_wait(pool_core& p, job& j, std::chrono::steady_clock::time_point deadline);
// run(f, stop_token): waits for j; a stop of st drops it if queued or requests its stop.
void run_stoppable_wait(job& j, std::stop_token st);

// Releases `refs` references of j on scope exit unless disarmed.
struct job_guard {
  job* j;
  int refs;
  ~job_guard() {
    if (j != nullptr)
      for (int i = 0; i < refs; ++i) j->release();
  }
};
}  // namespace detail

class worker_pool;

namespace detail {
pool_core& core_of(worker_pool& p) noexcept;
}  // namespace detail

class worker_pool {
 public:
  // Starts opt.threads workers ("name-N" thread names, logged at DEBUG). Throws
  // std::invalid_argument for an empty name, std::system_error if no thread can be started.
  explicit worker_pool(pool_options opt = {});
  worker_pool(std::string name, std::size_t threads);

  // join(): closes with close_mode::drain and waits for every queued and running job. Destroying
  // a pool from one of its own jobs closes it and lets the workers finish detached (logged).
  ~worker_pool();

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // Queues f and returns its handle.
  //   auto t = pool.submit([](std::stop_token st) { return crunch(st); });
  // Blocks or throws pool_full when the queue is full (overflow policy); throws pool_closed.
  template <class F>
  task<job_result_t<F>> submit(F&& f, source_location loc = source_location::current()) {
    using R = job_result_t<F>;
    auto* j = new detail::job_impl<std::decay_t<F>, R>(std::forward<F>(f), 2);
    detail::job_guard g{j, 2};
    detail::pool_enqueue(*core_, j, loc, false);
    g.j = nullptr;
    return task<R>(j);
  }

  // Like submit but never blocks and never throws pool_full: empty when the queue is full.
  //   if (auto t = pool.try_submit(job)) ... else shed_load();
  template <class F>
  std::optional<task<job_result_t<F>>> try_submit(F&& f,
                                                  source_location loc = source_location::current()) {
    using R = job_result_t<F>;
    auto* j = new detail::job_impl<std::decay_t<F>, R>(std::forward<F>(f), 2);
    detail::job_guard g{j, 2};
    if (!detail::pool_enqueue(*core_, j, loc, true)) return std::nullopt;
    g.j = nullptr;
    return task<R>(j);
  }

  // Fire and forget: the result is discarded; an exception is logged at ERROR at once.
  //   pool.post([req] { serve(req); });
  template <class F>
  void post(F&& f, source_location loc = source_location::current()) {
    auto* j = new detail::job_impl<std::decay_t<F>, void>(std::forward<F>(f), 1);
    j->detached_ = true;
    detail::job_guard g{j, 1};
    detail::pool_enqueue(*core_, j, loc, false);
    g.j = nullptr;
  }

  // post() that never blocks and never throws pool_full; false when the queue is full.
  template <class F>
  bool try_post(F&& f, source_location loc = source_location::current()) {
    auto* j = new detail::job_impl<std::decay_t<F>, void>(std::forward<F>(f), 1);
    j->detached_ = true;
    detail::job_guard g{j, 1};
    if (!detail::pool_enqueue(*core_, j, loc, true)) return false;
    g.j = nullptr;
    return true;
  }

  // Runs f on a worker and returns its result (tunny Process); rethrows its exception.
  //   std::string body = pool.run([&] { return render(page); });
  template <class F>
  job_result_t<F> run(F&& f, source_location loc = source_location::current()) {
    detail::check_not_own_worker(core_.get(), "worker_pool::run");
    return submit(std::forward<F>(f), loc).get();
  }

  // run() with one deadline for queue wait plus run time (tunny ProcessTimed). When it passes, a
  // job still queued (or a submit still blocked) is dropped and never runs; a running job gets a
  // stop request and run_for waits for it to return, so references it captured stay valid; then
  // run_for throws task_timeout (logged at WARN) and discards the job's outcome.
  //   try { pool.run_for(query, 200ms); } catch (const gidlog::task_timeout&) { ... }
  template <class F, class Rep, class Period>
  job_result_t<F> run_for(F&& f, const std::chrono::duration<Rep, Period>& timeout,
                          source_location loc = source_location::current()) {
    detail::check_not_own_worker(core_.get(), "worker_pool::run_for");
    using R = job_result_t<F>;
    const auto deadline = detail::deadline_after(timeout);
    auto* j = new detail::job_impl<std::decay_t<F>, R>(std::forward<F>(f), 2);
    detail::job_guard g{j, 2};
    detail::pool_enqueue(*core_, j, loc, false, deadline);
    g.j = nullptr;
    task<R> t(j);
    detail::run_for_wait(*core_, *j, deadline);
    return t.get();
  }

  // run() that gives up when `st` is stopped (tunny ProcessCtx): a queued job is dropped and
  // run throws task_cancelled; a running job gets a stop request and run returns (or rethrows)
  // whatever it ends with.
  //   pool.run([](std::stop_token job_st) { ... }, request_stop_source.get_token());
  template <class F>
  job_result_t<F> run(F&& f, std::stop_token st, source_location loc = source_location::current()) {
    detail::check_not_own_worker(core_.get(), "worker_pool::run");
    if (st.stop_requested()) throw task_cancelled("gidlog::worker_pool::run: stop requested before submit");
    auto t = submit(std::forward<F>(f), loc);
    detail::run_stoppable_wait(*t.j_, std::move(st));
    return t.get();
  }

  // Sets the number of workers without waiting: new workers start at once; surplus workers exit
  // after their current job. No queued job is lost. Logged at INFO. n == 0 is treated as 1.
  // Throws pool_closed after close().
  void resize(std::size_t n);

  std::size_t size() const noexcept;     // workers wanted (after the last resize)
  std::size_t queued() const noexcept;   // jobs waiting to start
  std::size_t running() const noexcept;  // jobs running now
  pool_stats stats() const;
  const std::string& name() const noexcept;
  bool closed() const noexcept;

  // Stops accepting jobs (later submits throw pool_closed) and returns at once. drain: queued
  // jobs still run; cancel_queued: they complete with task_cancelled. Logged at INFO. A second
  // call may upgrade drain to cancel_queued.
  void close(close_mode mode = close_mode::drain);

  // close(drain) if not closed yet, then waits until every worker has exited.
  void join();

  // close(mode), then waits at most `timeout` for the workers. If they are not done by then,
  // cancels what is still queued, sends a stop request to every running job, and returns false
  // (the destructor waits for them). true when every worker exited in time.
  template <class Rep, class Period>
  bool close_and_join(const std::chrono::duration<Rep, Period>& timeout, close_mode mode = close_mode::drain) {
    return close_and_join_for(std::chrono::ceil<std::chrono::nanoseconds>(timeout), mode);
  }

 private:
  bool close_and_join_for(std::chrono::nanoseconds timeout, close_mode mode);

  std::shared_ptr<detail::pool_core> core_;
  friend detail::pool_core& detail::core_of(worker_pool& p) noexcept;
};

}  // namespace v0
}  // namespace gidlog
