// The backend as /debug/gidlog/stats shows it (src/introspect/debug_stats.cpp), on the debug
// server's thread: the queue, the records not yet written and each sink's backlog, read under
// the writer lock for at most the time asked.
#include <time.h>

#include <atomic>
#include <mutex>

#include "backend/backend_state.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

backend_view view_backend(std::chrono::milliseconds wait) {
  backend_view v;
  v.running = shared().phase.load(std::memory_order_acquire) == lifecycle_phase::running;
  v.now_ns = tsc_clock::realtime_ns();
  if (v.running) v.queued = queued_records(g_gen.load(std::memory_order_acquire));
  std::unique_lock<std::mutex> lock(writer_mutex(), std::defer_lock);
  const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(wait.count()) * 1'000'000;
  while (!lock.try_lock()) {
    if (monotonic_ns() >= deadline) {
      v.writer_busy = true;
      return v;
    }
    timespec d{0, 1'000'000};
    nanosleep(&d, nullptr);
  }
  const backend_state* b = g_backend;
  if (b == nullptr || g_forked_child) return v;
  v.pending = b->backlog.load(std::memory_order_relaxed);
  v.last_written_ns = b->last_wall == INT64_MIN ? 0 : b->last_wall;
  for (std::size_t i = 0; i < b->wr->sink_count(); ++i)
    v.sinks.push_back({b->wr->sink_at(i), b->wr->backlog_bytes(i), b->wr->dropped(i), b->wr->failures(i)});
  return v;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
