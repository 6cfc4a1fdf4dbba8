#pragma once
// gidlog::gid(): the calling thread's kernel task id (TID), the number `top -H`, gdb, perf and
// /proc/PID/task/ show, and the N in every record's `gid-N`.
//
//   std::uint32_t me = gidlog::gid();          // == syscall(SYS_gettid), 3 L1 loads: ~0.3-0.6 ns
//   if (gidlog::gid_method() != gidlog::gid_source::fast) ...   // which way it is read
//
// How it is read. glibc and musl keep the TID in their thread descriptor, which the thread
// pointer (%fs on x86_64, tpidr_el0 on aarch64) reaches in one load. The offset comes from a
// table keyed by C library, run-time version (gnu_get_libc_version(); musl's candidates are tried
// in turn) and architecture:
//
//   libc    versions        x86_64   aarch64   (bytes from pthread_self())
//   glibc   2.17 - 2.42     0x2d0    0xd0
//   glibc   newer           0x2d0    0xd0      used only because it verifies
//   musl    >= 1.2.2        0x30     0x20
//   musl    1.1.x - 1.2.1   0x38     0x38
//
// Checks. At initialisation (a library constructor, or the first call if that comes earlier) the
// fast read must equal syscall(SYS_gettid), and pthread_gettid_np() where glibc has it. Every
// thread checks once more on its first call (one syscall per thread, ever), so a layout that only
// matched by chance on the main thread, where TID == PID, is caught on the first other thread.
//
// Fallbacks, in order: syscall(SYS_gettid) (~160 ns on the dev VM), then parsing
// readlink("/proc/thread-self") (~1.4 us). A failed check switches the whole process to the
// next method at once and reports why, once: to the hook gidlog::start() installs, which logs
// one WARN record, or to stderr before that (the reason is then kept and logged when start()
// installs its hook).
//
// Environment: GIDLOG_GID_METHOD=auto|fast|syscall|procfs, read once at initialisation, forces a
// method (for tests and benchmarks). "fast" is still checked and falls back like "auto" if the
// check fails; a forced method that does not work here falls back to the other and says so.
//
// Threading: gid() is lock-free, allocation-free, noexcept, async-signal-safe (signal handlers and
// alternate signal stacks included), and correct in a fork() child and from a dlopen()ed library
// because it reads the kernel-maintained field every time instead of caching the TID per thread.
//
// Limits (unsupported, not detected):
// - A vfork() child, and a raw clone() child that shares its parent's TLS (no CLONE_SETTLS, or
//   the parent's thread pointer), reads the parent's TID: it runs on the parent's descriptor.
// - Threads not created through the C library (raw clone() with a TLS block of your own) have no
//   C-library descriptor; call syscall(SYS_gettid) there.
// - If neither the gettid syscall nor /proc is available (a strict seccomp sandbox without
//   /proc), the fast path cannot be checked, so it is not used, and gid() returns 0.
#include <cstdint>

#include <gidlog/detail/gid_fast.h>

namespace gidlog {
inline namespace v0 {

// The way gid() reads the TID in this process, best first.
enum class gid_source : std::uint8_t {
  fast,     // the thread descriptor's TID field through the thread pointer (one load)
  syscall,  // syscall(SYS_gettid)
  procfs,   // readlink("/proc/thread-self"), parsed
};

// The calling thread's kernel TID. In the main thread it equals getpid().
// The hot path is three loads and one predictable branch; see detail/gid_fast.h.
inline std::uint32_t gid() noexcept {
  const std::ptrdiff_t off = detail::gid_fast.tp_offset.load(std::memory_order_relaxed);
  // The flag is 0 or all ones, so (off & flag) != 0 means "fast on, this thread checked", and
  // the load then uses `off` itself. This shape compiles to test+jne; masking the offset first
  // (and+je, loading through the AND's result) measured 2 cycles a call instead of 1 on Zen 4.
  if (__builtin_expect((off & detail::gid_thread_checked) != 0, 1)) return detail::gid_read_at(off);
  return detail::gid_slow();
}

// The method gid() uses now (initialises gidlog's gid layer if nothing did yet). It changes at
// most twice in a process's life, only after a failed check, and never back.
gid_source gid_method() noexcept;

// "fast", "syscall" or "procfs": gid_method() as text, for logs and benchmark labels.
const char* gid_method_name() noexcept;

// The text for any gid_source value ("?" for an invalid one).
const char* gid_source_name(gid_source source) noexcept;

}  // namespace v0
}  // namespace gidlog
