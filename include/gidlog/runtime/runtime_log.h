#pragma once
// The level of gidlog's own runtime logger ("gidlog.runtime": worker_pool, limiter), set apart
// from the application's level (gidlog::set_level). Records it emits carry the logger name
// "gidlog.runtime" (pattern flag %n).
//
//   gidlog::set_runtime_log_level(gidlog::level::trace);  // follow every job from submit to end
//
// What is logged at which level:
//   trace  job submit, start and finish: job id, submitter gid, executor gid, queue wait, run time
//   debug  worker thread start and exit; limiter job threads
//   info   pool creation, resize, close and join; limiter set_limit
//   warn   rejected submits, run_for/go_for timeouts, slow jobs (pool_options::slow_job_warn)
//   error  exceptions of post() jobs and limiter jobs at once; of submit() jobs when the
//          handle is destroyed without get() having observed them
//
// Default: info, or the value of the environment variable GIDLOG_RUNTIME_LEVEL ("trace",
// "debug", ..., "off") read once when the library is loaded. A record is emitted only when its
// level is at or above the runtime level, whatever the application's level is. Below it, a job
// pays one relaxed load per would-be record and no formatting.
//
// Threading: both functions may be called from any thread; a change applies to the next record.
#include <gidlog/level.h>

namespace gidlog {
inline namespace v0 {

level runtime_log_level() noexcept;
void set_runtime_log_level(level l) noexcept;

}  // namespace v0
}  // namespace gidlog
