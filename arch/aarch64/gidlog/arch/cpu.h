#pragma once
// aarch64: the thread pointer is tpidr_el0 and the cycle counter is the generic timer cntvct_el0.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gidlog::arch {

inline constexpr const char* name = "aarch64";
inline constexpr bool has_cycle_counter = true;

inline std::uint64_t cycles() noexcept {
  std::uint64_t v;
  __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
  return v;
}

// The thread pointer, tpidr_el0. volatile rather than __builtin_thread_pointer() (which the
// compiler may reuse across calls): a C++20 coroutine can resume on another thread inside the
// same function, and a cached thread pointer would then name the old thread.
inline void* thread_pointer() noexcept {
  void* tp;
  __asm__ __volatile__("mrs %0, tpidr_el0" : "=r"(tp));
  return tp;
}

// The 32-bit word at thread pointer + offset: gid()'s TID read. A plain load after the
// thread-pointer read, so the compiler reloads it after any call (it changes in a fork() child).
inline std::uint32_t load_u32_at_thread_pointer(std::ptrdiff_t offset) noexcept {
  std::uint32_t v;
  std::memcpy(&v, static_cast<const char*>(thread_pointer()) + offset, sizeof v);
  return v;
}

}  // namespace gidlog::arch
