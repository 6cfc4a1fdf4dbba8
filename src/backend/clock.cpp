#include "backend/clock.h"

#include <time.h>

#include <gidlog/arch/cpu.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {
std::int64_t read(clockid_t id) noexcept {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
std::uint64_t system_ticks() noexcept { return arch::cycles(); }
std::int64_t system_raw() noexcept { return read(CLOCK_MONOTONIC_RAW); }
std::int64_t system_wall() noexcept { return read(CLOCK_REALTIME); }
}  // namespace

const tsc_clock::source tsc_clock::system{system_ticks, system_raw, system_wall};

std::int64_t tsc_clock::realtime_ns() noexcept { return read(CLOCK_REALTIME); }

// One (ticks, raw, wall) triple: the tightest of three bracketed reads.
void tsc_clock::sample(std::uint64_t& ticks, std::int64_t& raw, std::int64_t& wall) const noexcept {
  std::uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    std::uint64_t a = src_->ticks();
    std::int64_t r = src_->raw_ns();
    std::int64_t w = src_->wall_ns();
    std::uint64_t b = src_->ticks();
    if (b - a < best_gap) {
      best_gap = b - a;
      ticks = a + (b - a) / 2;
      raw = r;
      wall = w;
    }
  }
}

tsc_clock::tsc_clock(const source& src) noexcept : src_(&src) {
  std::int64_t wall = 0;
  sample(first_ticks_, first_raw_ns_, wall);
  anchor_ticks_ = first_ticks_;
  anchor_raw_ns_ = first_raw_ns_;
  wall_offset_ns_ = wall - first_raw_ns_;
}

void tsc_clock::recalibrate() noexcept {
  std::uint64_t t = 0;
  std::int64_t raw = 0, wall = 0;
  sample(t, raw, wall);
  if (t > first_ticks_ && raw > first_raw_ns_)
    ns_per_tick_ = static_cast<double>(raw - first_raw_ns_) / static_cast<double>(t - first_ticks_);
  anchor_ticks_ = t;
  anchor_raw_ns_ = raw;
  wall_offset_ns_ = wall - raw;
}

void tsc_clock::settle(std::int64_t min_window_ns) noexcept {
  for (;;) {
    std::int64_t elapsed = src_->raw_ns() - first_raw_ns_;
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
