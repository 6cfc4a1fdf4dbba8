// The backend's part in a crash drain (src/lifecycle/crash.cpp drives it), on the crashing
// thread: whether a backend can serve the drain; when the backend thread itself crashed, the
// drain it runs on its own stack; and the crash record written synchronously when no backend runs.
#include <setjmp.h>
#include <time.h>

#include <atomic>
#include <mutex>

#include "backend/backend_state.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

bool backend_is_this_thread() noexcept { return tl_is_backend; }

bool backend_alive() noexcept {
  backend_state* b = g_backend;
  return b != nullptr && !g_forked_child && b->finished.load(std::memory_order_acquire) == 0 &&
         shared().phase.load(std::memory_order_acquire) != lifecycle_phase::abandoned;
}

namespace {
sigjmp_buf g_self_drain_jmp;
std::atomic<bool> g_self_drain_armed{false};
}  // namespace

bool crash_resume_self_drain() noexcept {
  if (!g_self_drain_armed.load(std::memory_order_acquire) || !tl_is_backend) return false;
  siglongjmp(g_self_drain_jmp, 1);
}

void backend_crash_drain_self(std::int64_t deadline_ns) noexcept {
  backend_state& b = *g_backend;
  crash_drain& crash = shared().crash;
  // The crash hit this thread inside a batch. If a sink crashed, it is skipped from now on and the
  // record is written again to the others (a sink before it in the list gets it twice: accepted);
  // if it came from elsewhere (formatting), that record is skipped.
  auto resume_after_crash = [&b] {
    std::size_t at = b.writing.load(std::memory_order_relaxed);
    const bool sink_crashed = b.wr->disable_crashed_sink();
    if (at != SIZE_MAX && at >= b.head && at < b.pending.size()) b.head = sink_crashed ? at : at + 1;
    b.writing.store(SIZE_MAX, std::memory_order_relaxed);
  };
  resume_after_crash();
  if (crash.rec.meta != nullptr) {
    b.pending.push_back(crash.rec);
    merge_runs(b.pending, b.head);
  }
  // A second crash while draining lands here (crash_resume_self_drain): same rule.
  if (sigsetjmp(g_self_drain_jmp, 1) != 0) resume_after_crash();
  g_self_drain_armed.store(true, std::memory_order_release);
  for (;;) {
    std::uint64_t watermark = UINT64_MAX;
    bool in_flight = false;
    const std::size_t before = b.pending.size();
    std::size_t got = take_pass(b, 1024, watermark, in_flight);
    if (got != 0) merge_runs(b.pending, b.head < before ? b.head : before);
    if (monotonic_ns() > deadline_ns) watermark = UINT64_MAX;
    std::size_t end = b.head;
    while (end < b.pending.size() && b.pending[end].ts < watermark) ++end;
    write_range(b, end);
    if (got == 0 && end == b.pending.size()) break;
    if (monotonic_ns() > deadline_ns && got == 0) break;
  }
  try {
    b.wr->flush_all();
  } catch (...) {
  }
  g_self_drain_armed.store(false, std::memory_order_release);
  crash.done.store(1, std::memory_order_release);
}

void write_crash_record_sync(record& r, std::int64_t deadline_ns) noexcept {
  bool locked = false;
  while (!(locked = writer_mutex().try_lock()) && monotonic_ns() < deadline_ns) {
    timespec d{0, 1'000'000};
    nanosleep(&d, nullptr);
  }
  write_now(r);
  if (locked) writer_mutex().unlock();
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
