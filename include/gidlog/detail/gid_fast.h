#pragma once
// Internals of gidlog::gid()'s fast path. Not part of the public API; see <gidlog/gid.h>.
//
// The fast path reads the kernel TID that glibc and musl keep in their thread descriptor, at a
// thread-pointer-relative offset that src/gid/ picks from the version-offset table and checks at
// initialisation. The hot path is three loads, one TEST and one branch:
//
//   off = gid_fast.tp_offset                       // 0 while the process does not use "fast"
//   if ((off & gid_thread_checked) != 0)           // and this thread passed its check (the
//     return *(uint32_t*)(thread_pointer + off);   //   flag is all ones once it did)
//   return gid_slow();                              // first call of a thread, or another method
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <gidlog/arch/cpu.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// Process-wide state of the fast path, written only by the initialisation and by a failed check
// (which stores 0). One word doubles as the on/off switch, so the hot path loads it once. Read
// relaxed: the offset is the same for every thread (the descriptor sits at a fixed distance from
// the thread pointer), a thread only reads it fast after its own checked slow-path call, and a
// thread that still sees the old offset after a switch reads where it was verified to be right.
struct alignas(64) gid_fast_state {
  std::atomic<std::ptrdiff_t> tp_offset{0};  // TID address minus the thread pointer; 0: off
};
extern gid_fast_state gid_fast;

// -1 (all ones, so it masks the offset) once this thread's fast read was checked against
// syscall(SYS_gettid), 0 before. One byte of static,
// initial-exec TLS: no __tls_get_addr call and no guard, even when gidlog is a shared library
// (glibc and musl reserve static TLS surplus for this when such a library is dlopen()ed).
// A fork() child inherits its thread's flag, and rightly: the kernel writes the child's TID into
// the same descriptor field (CLONE_CHILD_SETTID).
extern __thread std::int8_t gid_thread_checked __attribute__((tls_model("initial-exec")));

// Everything but the fast read: initialisation on a first call before the library constructor
// ran, the per-thread check, the syscall and procfs methods, switching methods after a failure.
// Async-signal-safe once initialised (the library constructor initialises).
[[gnu::cold]] std::uint32_t gid_slow() noexcept;

// The TID field at `tp_offset` from this thread's thread pointer (x86_64: one `mov %fs:(off)`).
inline std::uint32_t gid_read_at(std::ptrdiff_t tp_offset) noexcept {
  return arch::load_u32_at_thread_pointer(tp_offset);
}

// The unchecked fast read at the current offset: valid only while the offset is not 0 and after
// this thread's check. Exposed for the benchmark's "raw read" row and for tests.
inline std::uint32_t gid_fast_read() noexcept {
  return gid_read_at(gid_fast.tp_offset.load(std::memory_order_relaxed));
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
