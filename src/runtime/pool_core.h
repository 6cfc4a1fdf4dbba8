#pragma once
// A worker_pool's shared state. Lives in src/ so that the public header stays free of the queue
// and the semaphore; worker threads and cancellers keep it alive through shared_ptr.
//
// The queue: submitters push jobs on an intrusive lock-free stack (`inbox_`, one CAS, no
// allocation); a worker that finds the FIFO `ready` list empty takes the whole stack with one
// exchange and reverses it, so the order across batches and within one batch is the order of the
// pushes. `items_` counts at least as many units as there are jobs in the queue: a worker that
// wakes and finds nothing just waits again.
//
// Accounting, bounded pools (max_queue > 0): pending_ counts jobs accepted and not yet claimed by
// a worker or dropped; it bounds the queue and tells workers when a closed pool is drained.
// Exactly one party decrements it per job: the worker whose CAS queued->running wins, or the
// canceller whose CAS queued->cancelled wins (on_dropped).
//
// Unbounded pools (the default) keep no per-job counter that workers write: a counter written by
// both sides costs a cache-line transfer per job. in_flight_ counts submits between their
// closed_ check and their push (written by submitters only); a closed pool is drained when
// in_flight_ is 0 and the queue is empty. Dropped jobs stay in the queue as tombstones and are
// counted as cancelled when a worker (or close) takes them out; queued() walks the queue.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "runtime/concurrent_queue.h"

#include <gidlog/runtime/worker_pool.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// One worker thread. Stats are written only by the worker itself (relaxed load+store, no RMW)
// and summed by stats().
struct worker_slot {
  std::thread thread;
  std::uint32_t index = 0;
  std::atomic<std::uint32_t> gid{0};
  std::atomic<bool> exited{false};
  std::atomic<bool> busy{false};
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> succeeded{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::int64_t> run_ticks{0};
  std::atomic<std::int64_t> max_wait_ticks{0};
};

class pool_core : public std::enable_shared_from_this<pool_core> {
 public:
  explicit pool_core(pool_options opt);
  ~pool_core();

  void start(std::size_t threads);
  void resize(std::size_t n);
  void close(close_mode mode);
  void join();
  bool close_and_join_for(std::chrono::nanoseconds timeout, close_mode mode);
  void detach_all() noexcept;
  pool_stats stats() const;
  std::size_t running() const noexcept;

  // Queue.
  void push(job* j) noexcept;
  job* pop() noexcept;
  bool try_reserve() noexcept;
  void unreserve() noexcept;   // a reservation given back without a job (closed meanwhile)
  void on_taken() noexcept;    // a worker claimed a job
  void on_dropped() noexcept;  // a queued job was dropped (bounded pools)
  void end_submit() noexcept;  // unbounded: a submit pushed its job or gave up
  void on_tombstone() noexcept;  // unbounded: a dropped job was taken out of the queue
  bool drained() noexcept;       // closed, and no job is left or on its way
  struct queue_count {
    std::size_t queued = 0;
    std::size_t tombstones = 0;
  };
  queue_count count_queue() const noexcept;  // walks the queue under ready_lock_
  void wake_all_workers() noexcept;
  void wake_blocked_submitters() noexcept;

  void worker_main(worker_slot* w);
  void run_job(worker_slot& w, job* j);
  bool try_retire() noexcept;
  void spawn_locked(std::size_t n);  // workers_mu_ held
  void reap_locked();                // workers_mu_ held; joins exited workers
  void fold_locked(const worker_slot& w);

  const pool_options opt_;
  const char* const owner_;  // interned `pool "name"`
  const bool bounded_;       // max_queue > 0

  alignas(64) std::atomic<job*> inbox_{nullptr};
  // Guards the ready list. A spin lock measured worse: on an oversubscribed machine the holder
  // gets preempted and the other workers spin and yield (15 % of the 2-worker profile).
  alignas(64) mutable std::mutex ready_lock_;
  job* ready_head_ = nullptr;
  job* ready_tail_ = nullptr;
  alignas(64) moodycamel::LightweightSemaphore items_;
  alignas(64) std::atomic<std::int64_t> in_flight_{0};  // unbounded: submits not yet pushed
  alignas(64) std::atomic<std::int64_t> pending_{0};    // bounded: accepted, not yet claimed
  std::atomic<std::int64_t> blocked_{0};  // submitters waiting for room
  std::mutex space_mu_;
  std::condition_variable space_cv_;

  std::atomic<bool> closed_{false};
  std::atomic<std::int64_t> retire_{0};  // workers asked to exit by resize
  std::atomic<std::size_t> target_{0};
  std::atomic<std::size_t> alive_{0};
  std::atomic<std::uint64_t> cancelled_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::stop_source stop_;  // close_and_join's timeout: stop every running job

  mutable std::mutex workers_mu_;
  std::condition_variable exited_cv_;
  std::list<worker_slot> workers_;
  std::uint32_t next_index_ = 0;
  std::size_t live_ = 0;  // workers not yet exited (guarded by workers_mu_)
  bool joined_logged_ = false;
  // Totals of workers already joined.
  std::uint64_t done_started_ = 0, done_succeeded_ = 0, done_failed_ = 0;
  std::int64_t done_run_ticks_ = 0, done_max_wait_ticks_ = 0;
};

// The pool whose worker the calling thread is, or nullptr.
extern thread_local const pool_core* current_worker_pool;

// Completes j: frees its registry slot (when it owns it), publishes `final`, wakes waiters, and
// logs a failure nobody will observe. The caller holds a reference.
void job_complete(job& j, task_state final) noexcept;
// Drops j if still queued: completes it with task_cancelled/task_timeout. True if this call did.
bool job_drop(job& j, task_state why) noexcept;
// Registers j (fields id_, owner_, loc_, submitter_gid_, submit_ticks_ set) in state st; false
// when registration is off. unregister_job undoes it per entry_kind_.
bool register_job(job& j, task_state st) noexcept;
void unregister_job(job& j) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
