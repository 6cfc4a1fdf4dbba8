#pragma once
// Internals of gidlog::gid()'s fast path. Not part of the public API; see <gidlog/gid.h>.
//
// The fast path reads the kernel TID that glibc and musl keep in their thread descriptor, at a
// thread-pointer-relative offset that src/gid/ picks from the version-offset table and checks at
// initialisation. The hot path is two byte loads, one branch and one tid load:
//
//   if (gid_thread_checked & gid_fast.open)   // this thread verified, and the process uses "fast"
//     return *(uint32_t*)(thread_pointer + gid_fast.tp_offset);
//   return gid_slow();                          // first call of a thread, or another method
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <gidlog_cpu.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// Process-wide state of the fast path, written only by the initialisation (and by a failed
// check, which closes it). Read with relaxed loads: a thread only reaches the fast read after its
// own slow path observed the finished initialisation with an acquire load, so tp_offset is
// visible to it; `open` only ever goes from 1 to 0 after that (and a thread that still sees 1
// reads an offset that was verified on that very thread).
struct alignas(64) gid_fast_state {
  std::atomic<std::uint8_t> open{0};         // 1 while the process uses the fast method
  std::atomic<std::ptrdiff_t> tp_offset{0};  // TID address minus the thread pointer
};
extern gid_fast_state gid_fast;

// 1 once this thread's fast read was checked against syscall(SYS_gettid). One byte of static,
// initial-exec TLS: no __tls_get_addr call and no guard, even when gidlog is a shared library
// (glibc and musl reserve static TLS surplus for this when such a library is dlopen()ed).
// A fork() child inherits its thread's flag, and rightly: the kernel writes the child's TID into
// the same descriptor field (CLONE_CHILD_SETTID).
extern __thread std::uint8_t gid_thread_checked __attribute__((tls_model("initial-exec")));

// Everything but the fast read: initialisation on a first call before the library constructor
// ran, the per-thread check, the syscall and procfs methods, switching methods after a failure.
// Async-signal-safe once initialised (the library constructor initialises).
[[gnu::cold]] std::uint32_t gid_slow() noexcept;

// The unchecked fast read at the current offset: valid only while gid_fast.open is 1 and after
// this thread's check. Exposed for the benchmark's "raw read" row and for tests.
inline std::uint32_t gid_fast_read() noexcept {
  const char* tp = static_cast<const char*>(arch::thread_pointer());
  std::uint32_t tid;
  // A plain (non-volatile) load the compiler sees as memory: it is re-read after any call,
  // fork() included, and never cached across one.
  std::memcpy(&tid, tp + gid_fast.tp_offset.load(std::memory_order_relaxed), sizeof tid);
  return tid;
}

// Receives the reason when the gid method is switched after a failed check (or when
// GIDLOG_GID_METHOD holds a value it cannot honour). Called after the switch, so it may call
// gid() itself (LOG_WARN does). Must not throw. gidlog::start() installs one that logs at WARN.
using gid_warn_fn = void (*)(const char* reason) noexcept;

// Installs (or, with nullptr, removes) the hook. A reason raised while no hook was set went to
// stderr and is kept: the next hook set receives it once, from this call.
void set_gid_warn_hook(gid_warn_fn hook) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
