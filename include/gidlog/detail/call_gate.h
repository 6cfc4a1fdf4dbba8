#pragma once
// What decides, on the caller, whether a LOG_* call makes a record: the level gate of its logger
// (one relaxed byte load per call), the per-site state of the conditional and rate-limited macros,
// and how a run-time format string (gidlog::runtime_format, <gidlog/format.h>) is told apart.
// Internal: may change in any release.
#include <atomic>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <fmt/core.h>

#include <gidlog/detail/std_shapes.h>
#include <gidlog/format.h>
#include <gidlog/level.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// What a call at one level does; one byte per level, so the check is a single load.
inline constexpr std::uint8_t drop_action = 0;
inline constexpr std::uint8_t write_action = 1;
// Below the level: into the backtrace ring. The sign bit, so the flags of the gate's zero test
// already say it (one branch on a written record, no compare).
inline constexpr std::uint8_t keep_action = 0x81;

struct level_gate {
  std::atomic<std::uint8_t> action[8];
  std::uint8_t load(level l) const noexcept {
    return action[static_cast<unsigned>(l)].load(std::memory_order_relaxed);
  }
};

// The action of a call at `call` for a logger at `lvl`; `keep_from` is the lowest level the
// backtrace ring keeps (level::off: no ring). FATAL is always written.
constexpr std::uint8_t action_for(level call, level lvl, level keep_from) noexcept {
  if (call == level::fatal || (call >= lvl && call < level::off)) return write_action;
  if (call >= keep_from && call < lvl && call < level::off) return keep_action;
  return drop_action;
}

// The root logger's gate (LOG_*), initially level::info and no ring. Default visibility: one copy
// per process even in modules built with -fvisibility=hidden (see g_level).
__attribute__((visibility("default"))) inline constinit level_gate g_root_gate{{0, 0, 1, 1, 1, 1, 0, 0}};

// ---- the format argument of a LOG_* macro ------------------------------------------------------

template <class T>
constexpr bool is_runtime_format_v =
    std::is_same_v<std::decay_t<T>, runtime_format_string> || std::is_same_v<std::decay_t<T>, fmt::basic_runtime<char>>;

// The literal format string of a call site, or "" when the format comes at run time. `f` returns
// the macro's first argument; it is called only for a literal, so a run-time expression is never
// evaluated here (it may name local variables: only the lambda's type is looked at).
template <class F>
consteval std::string_view literal_or_empty(const F& f) {
  if constexpr (is_runtime_format_v<decltype(f())>) return {};
  else return std::string_view(f());
}

// What the macro hands to log_site: the stripped literal (checked at compile time there), or the
// run-time format string.
template <class T>
constexpr auto pick_format(std::string_view stripped, const T& first) noexcept {
  if constexpr (std::is_same_v<std::decay_t<T>, runtime_format_string>) return first;
  else if constexpr (is_runtime_format_v<T>) return runtime_format_string{std::string_view(first.str.data(), first.str.size())};
  else return stripped;
}

// ---- rate limits -----------------------------------------------------------------------------

// The clock LOG_*_EVERY reads (nanoseconds, monotonic); steady_clock unless a test set another.
using rate_clock_fn = std::int64_t (*)() noexcept;
std::int64_t steady_now_ns() noexcept;
__attribute__((visibility("default"))) inline std::atomic<rate_clock_fn> g_rate_clock{&steady_now_ns};

// LOG_*_EVERY_N(n): the k-th call (from 0) passing the level is written when k % n == 0; it
// carries the n - 1 calls skipped since the previous one.
struct every_n_state {
  std::atomic<std::uint64_t> calls{0};
  bool admit(std::uint64_t n, std::uint64_t& suppressed) noexcept {
    if (n <= 1) {
      suppressed = 0;
      return true;
    }
    const std::uint64_t k = calls.fetch_add(1, std::memory_order_relaxed);
    if (k % n != 0) return false;
    suppressed = k == 0 ? 0 : n - 1;
    return true;
  }
};

// LOG_*_FIRST_N(n): the first n calls passing the level; the count stops growing after them.
struct first_n_state {
  std::atomic<std::uint64_t> calls{0};
  bool admit(std::uint64_t n) noexcept {
    if (calls.load(std::memory_order_relaxed) >= n) return false;
    return calls.fetch_add(1, std::memory_order_relaxed) < n;
  }
};

// LOG_*_EVERY(period): at most one call per period, the first one after it ends; it carries the
// calls skipped since the previous one written. `period` is a std::chrono::duration (the caller
// has included <chrono>; this header does not, see detail/std_shapes.h).
//
// `state` holds the end of the current period (clock nanoseconds, bits 0-62) and which of the two
// `skipped` counters its calls count in (bit 63). The call that replaces the state is written and
// takes the old counter; a call skipped in the new period counts in the other one. So a written
// call never carries a call made after it, whatever the scheduler does between its two steps. A
// skipped call that is descheduled for a whole period between reading the state and counting is
// reported with a later record: never lost, never counted twice. The clock runs in [0, 2^63); 0 is
// where the first period ends, so the first call is written.
struct every_state {
  static constexpr std::uint64_t end_mask = ~std::uint64_t{0} >> 1;
  std::atomic<std::uint64_t> state{0};
  std::atomic<std::uint64_t> skipped[2]{};
  template <std_duration D>
  bool admit(const D& period, std::uint64_t& suppressed) noexcept {
    const std::int64_t clock = g_rate_clock.load(std::memory_order_relaxed)();
    const std::uint64_t now = clock > 0 ? static_cast<std::uint64_t>(clock) : 0;
    std::uint64_t s = state.load(std::memory_order_relaxed);
    for (;;) {
      if (now < (s & end_mask)) {  // a skipped call stops here: no period arithmetic
        skipped[s >> 63].fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      const std::int64_t ns = nanoseconds_of(period);
      const std::uint64_t len = ns > 0 ? static_cast<std::uint64_t>(ns) : 0;
      const std::uint64_t end = len < end_mask - now ? now + len : end_mask;
      if (state.compare_exchange_weak(s, ((~s) & ~end_mask) | end, std::memory_order_relaxed)) break;
    }
    suppressed = skipped[s >> 63].exchange(0, std::memory_order_relaxed);
    return true;
  }
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
