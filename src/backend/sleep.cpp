// Sleeping between passes, on the backend thread: a short poll while records come, a futex
// wait when idle, and the flag callers look at to know whether to wake it.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <thread>

#include "backend/backend_state.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

// ---- Sleeping -------------------------------------------------------------------------------
//
// While records come, the backend polls the rings every options::backend_sleep, or up to
// options::backend_sleep_max while they come slowly (poll_sleep). After options::backend_idle
// without one it sleeps on the futex g_backend_sleeping until something needs it, so an idle
// logger costs no CPU and no wake-ups:
//
//   backend: g_backend_sleeping = 7; membarrier(); look at every ring; futex_wait(7)
//   caller:  publish the slot (release store); load g_backend_sleeping; if above 6 - level:
//            compare-exchange it to 0, futex_wake
//
// The caller pays one load of a line only the backend writes, and the system call only when the
// backend sleeps. No record is missed: membarrier(2) runs a full barrier on every CPU running a
// thread of the process, so a caller either published before it (the backend's look sees the
// record) or loads the flag after it (and sees 7). A record stamped but not yet published keeps
// the backend awake: its caller loads the flag after publishing. stop(), reopen() and a drop wake
// it the same way. Without membarrier (old kernels, qemu-user) the backend never sleeps longer
// than fallback_sleep_ns, and still wakes at once when a caller sees the flag.
//
// A crash drain uses the same flag the other way round (crash.cpp, close_rings): it sets 8,
// wake_crash, which every level sees, runs membarrier, and only then asks the backend to drain and
// wakes it. A caller that sees 8 parks for good in wake_backend(), so a LOG_* call that returned
// published its record before the barrier, and the drain's passes, all after it, see it. Nobody
// takes 8 or writes over it: the backend changes the flag only by compare-exchange.

namespace {

constexpr std::int64_t fallback_sleep_ns = 1'000'000;

bool wanted(const backend_state& b) noexcept {
  const crash_drain& crash = shared().crash;
  return b.stop.load(std::memory_order_acquire) || crash.requested.load(std::memory_order_acquire) != 0 ||
         shared().reopen_requested.load(std::memory_order_acquire) || total_dropped() > b.reported_drops;
}

}  // namespace

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t timeout_ns) noexcept {
  timespec t{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          timeout_ns >= 0 ? &t : nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

// Sleeps until a caller (or stop(), a crash, reopen()) wakes it, or for `timeout_ns` (< 0: no limit).
// Never over wake_crash: a crash drain set it, and every caller must keep seeing it. The drain
// wakes the backend only after it asked for the drain, so one that saw wake_crash naps at most
// fallback_sleep_ns instead of sleeping on it.
void sleep_until_woken(backend_state& b, std::int64_t timeout_ns) noexcept {
  std::uint32_t flag = g_backend_sleeping.load(std::memory_order_relaxed);
  while (flag != wake_crash &&
         !g_backend_sleeping.compare_exchange_weak(flag, wake_any, std::memory_order_seq_cst, std::memory_order_relaxed)) {
  }
  const std::uint32_t asleep = flag == wake_crash ? wake_crash : wake_any;
  const bool barrier = process_barrier();
  if ((!barrier || asleep == wake_crash) && (timeout_ns < 0 || timeout_ns > fallback_sleep_ns)) timeout_ns = fallback_sleep_ns;
  if (!wanted(b) && !rings_hold_records(b)) futex_wait(g_backend_sleeping, asleep, timeout_ns);
  std::uint32_t expected = wake_any;  // a caller may have taken it (0), or a crash set wake_crash
  g_backend_sleeping.compare_exchange_strong(expected, 0, std::memory_order_relaxed);
}

// Sleeps one poll interval while records come. The interval doubles, up to poll_max_ns, while
// every poll finds each ring less than a quarter full, and falls back to options::backend_sleep
// when one is half full. In a longer sleep, records at flush_on and above wake the backend (and a
// ring that had to grow, or is full): no membarrier is needed, since the timeout bounds the wait.
void poll_sleep(backend_state& b) noexcept {
  const std::int64_t base = b.sleep.count() * 1000;
  if (b.poll_fill >= 128) b.poll_ns = base;
  else if (b.poll_fill < 64) b.poll_ns = std::min(b.poll_ns * 2, b.poll_max_ns);
  b.poll_fill = 0;
  // Changed with a compare-exchange from the value seen, never over wake_crash (a crash drain's).
  std::uint32_t flag = g_backend_sleeping.load(std::memory_order_relaxed);
  if (b.poll_ns <= base) {
    if (flag != 0 && flag != wake_crash) g_backend_sleeping.compare_exchange_strong(flag, 0, std::memory_order_relaxed);
    std::this_thread::sleep_for(b.sleep);
    return;
  }
  if (flag != b.poll_wake && flag != wake_crash) {
    // A caller took it meanwhile, or a crash set wake_crash: look at the rings again at once.
    if (!g_backend_sleeping.compare_exchange_strong(flag, b.poll_wake, std::memory_order_relaxed)) return;
    flag = b.poll_wake;
  }
  if (flag == 0) {  // flush_on off: no record wakes this poll
    std::this_thread::sleep_for(std::chrono::nanoseconds(b.poll_ns));
    return;
  }
  futex_wait(g_backend_sleeping, flag, b.poll_ns);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
