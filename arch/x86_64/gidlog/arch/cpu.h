#pragma once
// x86_64: the thread pointer is %fs:0 and the cycle counter is the invariant TSC.
#include <cstddef>
#include <cstdint>

namespace gidlog::arch {

inline constexpr const char* name = "x86_64";
inline constexpr bool has_cycle_counter = true;

// The TSC: constant rate and synchronised across cores on every x86_64 CPU with
// constant_tsc/nonstop_tsc (all since ~2008 and KVM guests). Not serialising on purpose: the
// hot path wants ~7 ns, not a fenced read. The compiler's builtin, not <x86intrin.h>'s __rdtsc:
// that header took a third of the logging header's compile time (bench/compile_cost.py).
inline std::uint64_t cycles() noexcept { return __builtin_ia32_rdtsc(); }

// The thread pointer: glibc and musl store the TCB's own address at %fs:0.
// volatile: read again at every call, never reused from an earlier one. A C++20 coroutine can
// resume on another thread inside the same function, and a cached thread pointer would then
// name the old thread (clang's early CSE runs before it splits coroutines). Costs one L1 load.
inline void* thread_pointer() noexcept {
  void* tp;
  __asm__ __volatile__("mov %%fs:0, %0" : "=r"(tp));
  return tp;
}

// The 32-bit word at thread pointer + offset, in one instruction (`mov %fs:(off)`): gid()'s TID
// read. Measured on the dev machine, it brings gid() down from 1.3x to about 1.0x a
// thread_local read, by saving the load of %fs:0. volatile: never merged with an earlier read or
// moved across a call (the word changes in a fork() child), same as a plain load after a call.
inline std::uint32_t load_u32_at_thread_pointer(std::ptrdiff_t offset) noexcept {
  std::uint32_t v;
  __asm__ __volatile__("movl %%fs:(%1), %0" : "=r"(v) : "r"(offset));
  return v;
}

}  // namespace gidlog::arch
