#include "backend/clock.h"

#include <time.h>

#include <gidlog/arch/cpu.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {
// One (ticks, realtime) pair: the tightest of three bracketed reads.
void sample(std::uint64_t& ticks, std::int64_t& ns) noexcept {
  std::uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    std::uint64_t a = arch::cycles();
    std::int64_t t = tsc_clock::realtime_ns();
    std::uint64_t b = arch::cycles();
    if (b - a < best_gap) {
      best_gap = b - a;
      ticks = a + (b - a) / 2;
      ns = t;
    }
  }
}
}  // namespace

std::int64_t tsc_clock::realtime_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

tsc_clock::tsc_clock() noexcept {
  sample(first_ticks_, first_ns_);
  anchor_ticks_ = first_ticks_;
  anchor_ns_ = first_ns_;
}

void tsc_clock::recalibrate() noexcept {
  std::uint64_t t = 0;
  std::int64_t ns = 0;
  sample(t, ns);
  if (t > first_ticks_ && ns > first_ns_)
    ns_per_tick_ = static_cast<double>(ns - first_ns_) / static_cast<double>(t - first_ticks_);
  anchor_ticks_ = t;
  anchor_ns_ = ns;
}

void tsc_clock::settle(std::int64_t min_window_ns) noexcept {
  for (;;) {
    std::int64_t elapsed = realtime_ns() - first_ns_;
    if (elapsed >= min_window_ns) break;
    timespec d{0, static_cast<long>(min_window_ns - elapsed)};
    nanosleep(&d, nullptr);
  }
  recalibrate();
  next_check_ticks_ = anchor_ticks_;
}

void tsc_clock::maybe_recalibrate(std::uint64_t now_ticks, std::int64_t interval_ns) noexcept {
  if (now_ticks < next_check_ticks_) return;
  recalibrate();
  next_check_ticks_ = anchor_ticks_ + static_cast<std::uint64_t>(static_cast<double>(interval_ns) / ns_per_tick_);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
