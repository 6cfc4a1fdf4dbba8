#pragma once
// gidlog::tasks: the registry of live jobs of every worker_pool and limiter, the counterpart of
// Go's runtime.NumGoroutine() and of the pprof goroutine profile.
//
//   std::size_t before = gidlog::tasks::count();        // like runtime.NumGoroutine()
//   ... start work on pools and limiters ...
//   std::puts(gidlog::tasks::profile(1).c_str());        // like /debug/pprof/goroutine?debug=1
//
// What is registered: every job from worker_pool::submit/try_submit/post/run/run_for and every
// limiter::go/try_go/go_for, from the moment the call starts (so a caller blocked in submit or
// waiting for a token shows up) until the job has finished. A task leaves the registry before
// its result is published, so after task::get() or limiter::wait() returns, count() no longer
// includes it. Tokens taken with limiter::acquire() are not tasks.
//
// Cost: a small job is allocated in a registry slot (a per-thread free list, no malloc), and
// registering it is a few relaxed stores into memory the job occupies anyway; the worker marks
// it running and finished with single stores to the job's own cache line; freed slots go back to
// their thread in batches, one CAS per 32. No lock is taken on a job's path. Measured with
// bench/bm_pool (compare rows, 2-vCPU machine): about 0-15 % of an empty job's cost with 1-2
// workers; more when thousands of tiny jobs wait on an oversubscribed machine, because each
// registered job also writes its slot's creation-site cache line. Reading (count, list,
// profile) walks every slot under a mutex that only readers and slab allocation take; it is
// meant for diagnostics, not for hot loops.
//
// The exceptions of the jobs live with their owners: task_cancelled, task_timeout and
// would_deadlock with the task handle (<gidlog/runtime/task.h>), pool_closed and pool_full with
// the pool (<gidlog/runtime/worker_pool.h>).
//
// Threading: every function here may be called from any thread at any time.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gidlog {
inline namespace v0 {

// Where a job is in its life. The first four are the states the registry shows for live tasks;
// the last four are final states a task handle can report.
enum class task_state : std::uint8_t {
  blocked_in_submit,  // its submitter waits for room in a full queue (overflow::block)
  waiting_for_token,  // its limiter::go caller waits for a token
  queued,             // in a pool's queue, not started
  running,            // its callable is executing
  succeeded,          // returned normally
  failed,             // threw; task::get() rethrows the exception
  cancelled,          // dropped before it started (task::cancel, close_mode::cancel_queued, stop)
  timed_out,          // dropped or abandoned by run_for's deadline
};

// "blocked in submit", "waiting for token", "queued", "running", "succeeded", "failed",
// "cancelled", "timed out".
std::string_view to_string(task_state s) noexcept;

namespace tasks {

// One live task, as copied by list().
struct task_info {
  std::uint64_t id = 0;            // unique in the process, increasing from 1
  std::string owner;               // e.g. `pool "requests"` or `limiter "db"`
  task_state state = task_state::queued;
  std::string file;                // source_location of the submit/go call
  std::uint32_t line = 0;
  std::string function;
  std::uint32_t creator_gid = 0;   // gid of the thread that submitted it
  std::uint32_t executor_gid = 0;  // gid of the thread running it; 0 until it starts
  std::chrono::nanoseconds age{};  // since the submit/go call started
};

// Number of live registered tasks (queued, running, waiting for a token, blocked in submit).
// 0 for everything submitted while registration was off.
std::size_t count() noexcept;

// A copy of every live registered task, ordered by id.
std::vector<task_info> list();

// Text profile of the live tasks.
//   debug <= 1: "task profile: total N" then one group per (owner, state, creation site),
//               largest group first:
//                 3 @ limiter "fanout" [running]
//                 #	created at service.cpp:88 in first_result
//   debug >= 2: every task, by id, like pprof's goroutine?debug=2:
//                 task 17 [running, 2 minutes]:
//                 	owner limiter "fanout", created by gid-4242, running on gid-4250
//                 	created at /src/service.cpp:88 in std::string first_result()
std::string profile(int debug = 1);

// The profile(2) entry of one task (no trailing blank line); used by find_leaks().
std::string describe(const task_info& t);

// Switches registration of new tasks on (the default) or off. Tasks already registered stay
// until they finish. With registration off a job pays one relaxed load for the check.
void set_registration(bool on) noexcept;
bool registration() noexcept;

}  // namespace tasks
}  // namespace v0
}  // namespace gidlog
