#pragma once
// The backend thread's life: started by gidlog::start(), drained and joined by stop(), and asked
// by the crash handler to write everything queued before the process dies.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <gidlog/options.h>

#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

class writer;

// Starts "gidlog-backend" for logger generation `gen` (it reads the rings attached to it), writing through `w` (built by
// start(), which validated it). Swaps out the previous backend under the writer lock.
void backend_start(std::unique_ptr<writer> w, const options& opt, std::uint32_t gen);
// After g_gen was set to 0 and every producer could see it: drains, flushes, joins. Gives up after
// `timeout` (0: never), leaving the thread stuck in its sink; then returns false and `left` says
// how many records were still unwritten.
bool backend_stop(std::chrono::milliseconds timeout, std::uint64_t& left) noexcept;
// Called in a fork() child: the backend thread does not exist there.
void backend_forget_after_fork() noexcept;
// Called in a fork() child before backend_forget_after_fork() when fork() could not take the
// writer lock: the last writer may be mid-write, so the child no longer uses it.
void backend_forget_writer_after_fork() noexcept;
// The writer lock: held by the backend while it writes a batch, by the synchronous paths, and
// across fork() so a child never inherits a half-written sink.
std::mutex& writer_mutex() noexcept;
// At exit, after the last stop(): from here on only the calling (exiting) thread writes
// synchronously. Another thread's LOG_* waits, between records, until the process ends it, so no
// write(2) is in progress when exit_group(2) comes (the kernel stops a write killed midway at a
// page boundary: half a line as the file's end). A thread that waits longer than `wait` (something
// at exit is waiting for it) writes anyway, and the hold ends. Waits for a write in progress at
// most `wait` too.
void exit_hold_writes(std::chrono::milliseconds wait) noexcept;

// For the crash handler. True when the calling thread is the running backend thread.
bool backend_is_this_thread() noexcept;
// True when a backend thread is running and can serve shared().crash.
bool backend_alive() noexcept;
// The crash happened on the backend thread itself: write what it holds and what is queued, then
// shared().crash.rec, on this thread, until `deadline_ns` (CLOCK_MONOTONIC). A second crash while
// a sink writes skips that sink for the rest of the drain.
void backend_crash_drain_self(std::int64_t deadline_ns) noexcept;
// A second crash on the backend thread during backend_crash_drain_self(): jumps back into the
// drain past the record that crashed. Returns false (does nothing) in any other situation.
bool crash_resume_self_drain() noexcept;
// Nobody serves the queue (logger stopped): write `r` synchronously to the last sinks or stderr,
// waiting for the writer lock at most until `deadline_ns`.
void write_crash_record_sync(record& r, std::int64_t deadline_ns) noexcept;

std::int64_t monotonic_ns() noexcept;

// For /debug/gidlog/stats (src/introspect): the current backend's queue and sinks. The sink
// fields are read under the writer lock, waited for at most `wait` (a sink stuck in write() holds
// it); when it could not be had, writer_busy is set and `sinks` is empty.
struct backend_view {
  struct sink_view {
    sink_ptr s;
    std::size_t backlog_bytes = 0;  // kept for retries
    std::uint64_t dropped = 0;      // lines lost past options::sink_backlog_bytes
    std::uint64_t failures = 0;     // failed calls since its last success
  };
  bool running = false;
  bool writer_busy = false;
  std::uint64_t queued = 0;          // records in the queue (approximate)
  std::uint64_t pending = 0;         // dequeued, not yet written (approximate)
  std::int64_t last_written_ns = 0;  // wall-clock time of the newest record written; 0: none yet
  std::int64_t now_ns = 0;           // wall-clock time of this view
  std::vector<sink_view> sinks;
};
backend_view view_backend(std::chrono::milliseconds wait);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
