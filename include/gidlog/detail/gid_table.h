#pragma once
// The version-offset table behind gidlog::gid()'s fast path, and the seams tests use to inject
// another table or C library version. Not part of the public API; see <gidlog/gid.h>. Not
// installed (CMakeLists.txt excludes it): the library's sources, its tests and bm_gid include it
// from the source tree, and no installed header may.
#include <cstddef>
#include <cstdint>
#include <span>

#include <gidlog/gid.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

enum class gid_libc : std::uint8_t { glibc, musl };

// A C library version, compared field by field. "2.36" parses as {2, 36, 0}.
struct gid_libc_version {
  std::uint16_t major = 0, minor = 0, patch = 0;
  friend constexpr auto operator<=>(const gid_libc_version&, const gid_libc_version&) = default;
};
inline constexpr gid_libc_version gid_version_max{0xffff, 0xffff, 0xffff};

// Parses "2.36", "2.17.90" or "1.2.3"; a missing field is 0, anything unparsable is {0, 0, 0}.
gid_libc_version gid_parse_libc_version(const char* text) noexcept;

// One row: the byte offset of the descriptor's TID field from pthread_self(), per architecture,
// for an inclusive range of versions of one C library. 0 means "not known here".
//
// A glibc row applies when the run-time version (gnu_get_libc_version()) is in its range; musl
// has no version query, so every musl row is tried in table order. Either way an offset is used
// only after it reads the TID syscall(SYS_gettid) returns; `measured` is false for a row that
// extrapolates past the versions the offset was read from (the reason text then says so).
// Offsets must be multiples of 4 and point into the descriptor; a probe that would fault is
// detected with process_vm_readv() where the kernel allows it.
struct gid_offset_entry {
  gid_libc libc;
  gid_libc_version first;
  gid_libc_version last;
  std::ptrdiff_t x86_64;
  std::ptrdiff_t aarch64;
  bool measured;
};

// The built-in table (src/gid/gid_offsets.cpp), the one place the offsets are written.
std::span<const gid_offset_entry> gid_builtin_offsets() noexcept;

// Re-runs the initialisation as if the process had just started: re-reads GIDLOG_GID_METHOD,
// looks the offset up in `table` for the C library version `libc_version` (nullptr: the real
// one; ignored for musl, which has no version query). Reasons for a fallback go to the warn
// hook like at start-up. Only for tests: other threads must not be calling gid() meanwhile, and
// threads that already passed their per-thread check keep it.
void gid_reinit_for_test(std::span<const gid_offset_entry> table, const char* libc_version) noexcept;

// The same with the built-in table and the real version: restores the normal state.
void gid_reinit_for_test() noexcept;

// What the last initialisation chose and why, e.g.
// "fast: glibc 2.36 x86_64, TID at pthread_self()+0x2d0 = thread pointer+0x2d0". Stable until
// the next initialisation or method switch.
const char* gid_init_note() noexcept;

// Byte offset from pthread_self() of the TID field in use (0 unless the method is fast).
std::ptrdiff_t gid_offset_from_self() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
