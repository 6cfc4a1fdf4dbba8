// worker_pool's workers: the threads a pool starts, resizes, closes and joins, each running
// worker_main (on the worker thread), and the pool's statistics. See pool_core.h for the queue and
// the accounting; submitting is in pool_submit.cpp, the queue's own operations in pool_queue.cpp.
#include <algorithm>
#include <stdexcept>
#include <string>

#include <pthread.h>

#include "core/thread_origin.h"
#include "runtime/job_span.h"
#include "runtime/pool_core.h"
#include "runtime/registry.h"
#include "runtime/runtime_log.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

// Spins before a worker sleeps on the semaphore: enough to catch a submitter that is posting in
// a loop, few enough not to steal the CPU from it when workers outnumber cores (measured on the
// 2-vCPU dev machine: 1000 spins cut 2-worker throughput to a third of 50-200 spins).
constexpr int idle_spins = 100;

std::size_t default_threads(std::size_t n) {
  if (n != 0) return n;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

pool_options checked(pool_options o) {
  if (o.name.empty()) throw std::invalid_argument("gidlog::pool_options::name: must not be empty");
  o.threads = default_threads(o.threads);
  return o;
}

void store_max(std::atomic<std::int64_t>& a, std::int64_t v) noexcept {
  if (v > a.load(std::memory_order_relaxed)) a.store(v, std::memory_order_relaxed);
}

template <class T>
void bump(std::atomic<T>& a, T by = 1) noexcept {  // single writer: no RMW needed
  a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

pool_core::pool_core(pool_options opt)
    : opt_(checked(std::move(opt))),
      owner_(intern_name("pool \"" + opt_.name + "\"")),
      bounded_(opt_.max_queue != 0),
      items_(0, idle_spins) {}

pool_core::~pool_core() {
  // Dropped jobs may still sit in the queue as tombstones: give back the queue's references.
  while (job* j = pop()) j->release();
}

void pool_core::start(std::size_t threads) {
  std::lock_guard g(workers_mu_);
  target_.store(threads, std::memory_order_relaxed);
  spawn_locked(threads);
  GIDLOG_RT_INFO_("{}: started with {} workers, max_queue {} ({})", owner_, threads, opt_.max_queue,
                  opt_.on_full == overflow::block ? "block when full" : "reject when full");
}

void pool_core::spawn_locked(std::size_t n) {
  std::shared_ptr<pool_core> self = shared_from_this();
  for (std::size_t i = 0; i < n; ++i) {
    worker_slot& w = workers_.emplace_back();
    w.index = next_index_++;
    try {
      // Registered for threads::profile(2): "created by gid-N at ..." (the thread that grew the pool).
      w.thread = start_named_thread("gidlog-worker", source_location::current(), std::string(owner_),
                                    [self, wp = &w] { self->worker_main(wp); });
    } catch (...) {
      workers_.pop_back();
      throw;
    }
    ++live_;
    alive_.fetch_add(1, std::memory_order_relaxed);
  }
}

void pool_core::fold_locked(const worker_slot& w) {
  done_started_ += w.started.load(std::memory_order_relaxed);
  done_succeeded_ += w.succeeded.load(std::memory_order_relaxed);
  done_failed_ += w.failed.load(std::memory_order_relaxed);
  done_run_ticks_ += w.run_ticks.load(std::memory_order_relaxed);
  done_max_wait_ticks_ = std::max(done_max_wait_ticks_, w.max_wait_ticks.load(std::memory_order_relaxed));
}

void pool_core::reap_locked() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->exited.load(std::memory_order_acquire) && it->thread.joinable() &&
        it->thread.get_id() != std::this_thread::get_id()) {
      it->thread.join();  // it has exited its loop: returns at once
      fold_locked(*it);
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void pool_core::worker_main(worker_slot* w) {
  current_worker_pool = this;
  const std::uint32_t me = gid();
  w->gid.store(me, std::memory_order_relaxed);
  {
    const std::string tname = opt_.name.substr(0, 10) + "-" + std::to_string(w->index);
    ::pthread_setname_np(::pthread_self(), tname.substr(0, 15).c_str());
  }
  GIDLOG_RT_DEBUG_("{}: worker {} started on gid-{}", owner_, w->index, me);
  bool retired = false;
  for (;;) {
    if (try_retire()) {
      retired = true;
      items_.signal(1);  // the unit this worker may have consumed belongs to a job
      break;
    }
    if (job* j = pop()) {
      run_job(*w, j);
      continue;
    }
    if (drained()) break;
    flush_freed_slots();  // slots of submitters' heaps this worker still holds
    items_.wait();
  }
  GIDLOG_RT_DEBUG_("{}: worker {} on gid-{} exits ({}), ran {} jobs", owner_, w->index, me,
                   retired ? "resized down" : "closed", w->started.load(std::memory_order_relaxed));
  current_worker_pool = nullptr;
  flush_freed_slots();
  alive_.fetch_sub(1, std::memory_order_release);
  {
    std::lock_guard g(workers_mu_);
    w->exited.store(true, std::memory_order_release);
    --live_;
  }
  exited_cv_.notify_all();
}

void pool_core::run_job(worker_slot& w, job* j) {
  task_state expected = task_state::queued;
  if (!j->phase_.compare_exchange_strong(expected, task_state::running, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
    on_tombstone();  // dropped while queued (bounded pools: its dropper did the accounting)
    j->release();
    return;
  }
  on_taken();
  const std::uint32_t me = w.gid.load(std::memory_order_relaxed);
  const context_scope job_context{j->context_};  // the job's records, and the hop records, carry it
  const job_span span;                            // in a child of the submitter's span, if it has one
  const std::int64_t t0 = now_ticks();
  const std::int64_t waited = t0 - j->submit_ticks_;
  set_task_executor(j->entry_, me);
  set_task_state(j->entry_, task_state::running);
  w.busy.store(true, std::memory_order_relaxed);
  bump(w.started);
  store_max(w.max_wait_ticks, waited);
  GIDLOG_RT_TRACE_("{owner}: job {job} started on gid-{executor}, submitted by gid-{submitter}, queue wait {wait_us} us", owner_, j->id_, me,
                   j->submitter_gid_, ticks_to_ns(waited) / 1000);
  bool ok;
  if (j->stop_.stop_possible()) {
    std::stop_callback on_pool_stop(stop_.get_token(), [j]() noexcept { j->stop_.request_stop(); });
    ok = j->invoke();
  } else {
    ok = j->invoke();
  }
  const std::int64_t ran = now_ticks() - t0;
  bump(w.run_ticks, ran);
  bump(ok ? w.succeeded : w.failed);
  w.busy.store(false, std::memory_order_relaxed);
  GIDLOG_RT_TRACE_("{owner}: job {job} finished on gid-{executor} in {run_us} us ({outcome}), submitted by gid-{submitter}", owner_, j->id_, me,
                   ticks_to_ns(ran) / 1000, ok ? "ok" : "threw", j->submitter_gid_);
  if (opt_.slow_job_warn.count() > 0 && ticks_to_ns(ran) > opt_.slow_job_warn.count()) {
    GIDLOG_RT_WARN_("{}: slow job {} ran {} ms on gid-{} (slow_job_warn {} ms), submitted at {}:{}", owner_, j->id_,
                    ticks_to_ns(ran) / 1'000'000, me, opt_.slow_job_warn.count() / 1'000'000, j->loc_.file_name(),
                    j->loc_.line());
  }
  job_complete(*j, ok ? task_state::succeeded : task_state::failed);
  j->release();
}

void pool_core::resize(std::size_t n) {
  if (closed_.load(std::memory_order_acquire)) throw pool_closed("gidlog::worker_pool::resize: " + std::string(owner_) + " is closed");
  n = std::max<std::size_t>(n, 1);
  std::lock_guard g(workers_mu_);
  reap_locked();
  const std::size_t old = target_.load(std::memory_order_relaxed);
  if (n > old) {
    std::size_t need = n - old;
    // Cancel retirements not yet taken before starting new threads.
    std::int64_t r = retire_.load(std::memory_order_relaxed);
    while (r > 0 && need > 0) {
      const std::int64_t take = std::min<std::int64_t>(r, static_cast<std::int64_t>(need));
      if (retire_.compare_exchange_weak(r, r - take, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        need -= static_cast<std::size_t>(take);
        r -= take;
      }
    }
    spawn_locked(need);
  } else if (n < old) {
    retire_.fetch_add(static_cast<std::int64_t>(old - n), std::memory_order_acq_rel);
    items_.signal(static_cast<moodycamel::LightweightSemaphore::ssize_t>(old - n));
  }
  target_.store(n, std::memory_order_relaxed);
  GIDLOG_RT_INFO_("{}: resized from {} to {} workers", owner_, old, n);
}

void pool_core::close(close_mode mode) {
  const bool was_closed = closed_.exchange(true, std::memory_order_seq_cst);
  std::size_t dropped = 0;
  if (mode == close_mode::cancel_queued) {
    while (job* j = pop()) {
      if (job_drop(*j, task_state::cancelled)) ++dropped;
      on_tombstone();  // every job taken out here is dropped now or was before
      j->release();
    }
  }
  if (!was_closed || dropped > 0) {
    GIDLOG_RT_INFO_("{}: closed ({}), {} jobs cancelled, {} queued, {} running", owner_,
                    mode == close_mode::drain ? "drain" : "cancel queued", dropped,
                    count_queue().queued, running());
  }
  {
    std::lock_guard g(space_mu_);
    space_cv_.notify_all();  // blocked submitters now throw pool_closed
  }
  wake_all_workers();
}

void pool_core::join() {
  check_not_own_worker(this, "gidlog::worker_pool::join");
  if (!closed_.load(std::memory_order_acquire)) close(close_mode::drain);
  std::unique_lock lk(workers_mu_);
  exited_cv_.wait(lk, [this] { return live_ == 0; });
  reap_locked();
  if (!joined_logged_) {
    joined_logged_ = true;
    GIDLOG_RT_DEBUG_("{}: joined; {} jobs ran ({} failed), {} cancelled, {} rejected", owner_, done_started_,
                    done_failed_, cancelled_.load(std::memory_order_relaxed), rejected_.load(std::memory_order_relaxed));
  }
}

bool pool_core::close_and_join_for(std::chrono::nanoseconds timeout, close_mode mode) {
  check_not_own_worker(this, "gidlog::worker_pool::close_and_join");
  close(mode);
  {
    std::unique_lock lk(workers_mu_);
    if (exited_cv_.wait_for(lk, timeout, [this] { return live_ == 0; })) {
      lk.unlock();
      join();
      return true;
    }
  }
  GIDLOG_RT_WARN_("{}: close_and_join timed out after {} ms; cancelling queued jobs and stopping running ones",
                  owner_, timeout.count() / 1'000'000);
  close(close_mode::cancel_queued);
  stop_.request_stop();
  return false;
}

void pool_core::detach_all() noexcept {
  std::lock_guard g(workers_mu_);
  for (worker_slot& w : workers_) {
    if (w.thread.joinable()) w.thread.detach();
  }
}

std::size_t pool_core::running() const noexcept {
  std::lock_guard g(workers_mu_);
  std::size_t n = 0;
  for (const worker_slot& w : workers_) n += w.busy.load(std::memory_order_relaxed) ? 1 : 0;
  return n;
}

pool_stats pool_core::stats() const {
  pool_stats s;
  std::lock_guard g(workers_mu_);
  s.started = done_started_;
  s.succeeded = done_succeeded_;
  s.failed = done_failed_;
  std::int64_t run = done_run_ticks_, max_wait = done_max_wait_ticks_;
  for (const worker_slot& w : workers_) {
    s.started += w.started.load(std::memory_order_relaxed);
    s.succeeded += w.succeeded.load(std::memory_order_relaxed);
    s.failed += w.failed.load(std::memory_order_relaxed);
    run += w.run_ticks.load(std::memory_order_relaxed);
    max_wait = std::max(max_wait, w.max_wait_ticks.load(std::memory_order_relaxed));
    if (!w.exited.load(std::memory_order_relaxed)) {
      if (w.busy.load(std::memory_order_relaxed)) {
        ++s.busy;
      } else {
        ++s.idle;
      }
    }
  }
  s.cancelled = cancelled_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  const queue_count q = count_queue();
  s.queued = q.queued;
  s.cancelled += q.tombstones;  // dropped, not yet taken out of the queue
  s.submitted = s.started + s.cancelled + s.queued;
  s.max_queue_wait = std::chrono::nanoseconds(ticks_to_ns(max_wait));
  s.total_run_time = std::chrono::nanoseconds(ticks_to_ns(run));
  return s;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
