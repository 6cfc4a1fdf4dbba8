// worker_pool's submit path, on the submitting thread (any thread): pool_enqueue checks the pool
// is open, registers the job, reserves room (waiting, rejecting or queueing beyond max_queue as
// pool_options says) and pushes it for a worker.
#include <chrono>
#include <string>

#include <gidlog/context.h>
#include <gidlog/gid.h>

#include "runtime/pool_core.h"
#include "runtime/registry.h"
#include "runtime/runtime_log.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

bool pool_enqueue(pool_core& p, job* j, const source_location& loc, bool try_only,
                  std::chrono::steady_clock::time_point deadline) {
  if (p.closed_.load(std::memory_order_acquire)) {
    throw pool_closed("gidlog::worker_pool: " + std::string(p.owner_) + " is closed");
  }
  j->id_ = next_task_id();
  j->pool_ = &p;
  j->owner_ = p.owner_;
  j->loc_ = loc;
  j->submitter_gid_ = gid();
  j->submit_ticks_ = now_ticks();
  j->context_ = gidlog::context::get();
  const bool reg = p.opt_.register_tasks && j->entry_kind_ == job::entry_kind::none;
  bool registered_here = false;

  if (!p.bounded_) {
    // No bound, so no reservation: announce the submit, then check closed_ (seq_cst, against
    // close's store and drained()'s reads), then push.
    p.in_flight_.fetch_add(1, std::memory_order_seq_cst);
    if (p.closed_.load(std::memory_order_seq_cst)) {
      p.end_submit();
      throw pool_closed("gidlog::worker_pool: " + std::string(p.owner_) + " is closed");
    }
    if (j->entry_ == nullptr) {
      if (reg) register_job(*j, task_state::queued);
    } else {
      set_task_state(j->entry_, task_state::queued);
    }
    GIDLOG_RT_TRACE_("{owner}: job {job} submitted by gid-{submitter} at {file}:{line}", p.owner_, j->id_, j->submitter_gid_,
                     loc.file_name(), loc.line());
    p.push(j);
    p.end_submit();
    return true;
  }

  j->counted_ = true;
  if (!p.try_reserve()) {
    if (try_only || p.opt_.on_full == overflow::reject) {
      p.rejected_.fetch_add(1, std::memory_order_relaxed);
      GIDLOG_RT_WARN_("{}: job {} from gid-{} rejected: queue full (max_queue {}), submitted at {}:{}", p.owner_,
                      j->id_, j->submitter_gid_, p.opt_.max_queue, loc.file_name(), loc.line());
      if (try_only) return false;
      throw pool_full("gidlog::worker_pool: " + std::string(p.owner_) + " queue is full");
    }
    if (current_worker_pool == &p) {
      // A worker of this pool would wait for itself: queue beyond max_queue instead.
      p.pending_.fetch_add(1, std::memory_order_seq_cst);
    } else {
      if (reg) {
        registered_here = register_job(*j, task_state::blocked_in_submit);
      } else {
        set_task_state(j->entry_, task_state::blocked_in_submit);
      }
      const auto give_up = [&] {
        if (registered_here) unregister_job(*j);
      };
      std::unique_lock lk(p.space_mu_);
      p.blocked_.fetch_add(1, std::memory_order_seq_cst);
      bool ok = true;
      while (!p.try_reserve()) {
        if (p.closed_.load(std::memory_order_seq_cst)) {
          ok = false;
          break;
        }
        if (deadline == std::chrono::steady_clock::time_point::max()) {
          p.space_cv_.wait(lk);
        } else if (p.space_cv_.wait_until(lk, deadline) == std::cv_status::timeout &&
                   std::chrono::steady_clock::now() >= deadline) {
          if (p.try_reserve()) break;
          p.blocked_.fetch_sub(1, std::memory_order_seq_cst);
          lk.unlock();
          give_up();
          GIDLOG_RT_WARN_("{}: job {} timed out blocked in submit (run_for), submitted at {}:{}", p.owner_, j->id_,
                          loc.file_name(), loc.line());
          throw task_timeout("gidlog: job of " + std::string(p.owner_) + " timed out waiting for queue room");
        }
      }
      p.blocked_.fetch_sub(1, std::memory_order_seq_cst);
      lk.unlock();
      if (!ok) {
        give_up();
        throw pool_closed("gidlog::worker_pool: " + std::string(p.owner_) + " is closed");
      }
    }
  }
  // Reserved. A close() that raced with us is seen here (seq_cst with close's store).
  if (p.closed_.load(std::memory_order_seq_cst)) {
    p.unreserve();
    if (registered_here) unregister_job(*j);
    throw pool_closed("gidlog::worker_pool: " + std::string(p.owner_) + " is closed");
  }
  if (j->entry_ == nullptr) {
    if (reg) register_job(*j, task_state::queued);
  } else {
    set_task_state(j->entry_, task_state::queued);
  }
  GIDLOG_RT_TRACE_("{owner}: job {job} submitted by gid-{submitter} at {file}:{line}", p.owner_, j->id_, j->submitter_gid_, loc.file_name(),
                   loc.line());
  p.push(j);
  return true;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
