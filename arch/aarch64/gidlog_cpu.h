#pragma once
// aarch64: the thread pointer is tpidr_el0 and the cycle counter is the generic timer cntvct_el0.
#include <cstdint>

namespace gidlog::arch {

inline constexpr const char* name = "aarch64";
inline constexpr bool has_cycle_counter = true;

inline std::uint64_t cycles() noexcept {
  std::uint64_t v;
  __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
  return v;
}

inline void* thread_pointer() noexcept { return __builtin_thread_pointer(); }

}  // namespace gidlog::arch
