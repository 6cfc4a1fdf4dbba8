// The version-offset table: where glibc and musl keep the thread's TID, in bytes from
// pthread_self(). Read from the libraries' struct pthread definitions and confirmed on live
// threads (the initialisation checks every offset before using it, so a wrong row costs a
// fallback and a WARN, never a wrong gid).
#include <gidlog/detail/gid_table.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

constexpr gid_offset_entry builtin_offsets[] = {
    // glibc: struct pthread begins with the TCB header (x86_64: tcbhead_t, 0x2c0 bytes; aarch64:
    // 24 words of padding), then `list_t list` (16 bytes), then `pid_t tid`.
    {gid_libc::glibc, {2, 17, 0}, {2, 42, 0xffff}, 0x2d0, 0xd0, true},
    // Newer glibc: the same offset, trusted only because the checks pass.
    {gid_libc::glibc, {2, 43, 0}, gid_version_max, 0x2d0, 0xd0, false},
    // musl 1.2.2 dropped dtv from the start of struct pthread on TLS_ABOVE_TP targets and the
    // second canary word: self, [dtv], prev, next, sysinfo, [canary], tid.
    {gid_libc::musl, {1, 2, 2}, gid_version_max, 0x30, 0x20, true},
    // musl 1.1.x-1.2.1: self, dtv, unused1, unused2, sysinfo, canary, canary2, tid.
    {gid_libc::musl, {1, 1, 0}, {1, 2, 1}, 0x38, 0x38, true},
};

}  // namespace

std::span<const gid_offset_entry> gid_builtin_offsets() noexcept { return builtin_offsets; }

gid_libc_version gid_parse_libc_version(const char* text) noexcept {
  if (text == nullptr || *text < '0' || *text > '9') return {};
  std::uint16_t fields[3] = {0, 0, 0};
  int i = 0;
  for (const char* p = text; *p != '\0' && i < 3; ++p) {
    if (*p >= '0' && *p <= '9') {
      unsigned v = fields[i] * 10u + static_cast<unsigned>(*p - '0');
      if (v > 0xffff) return {};
      fields[i] = static_cast<std::uint16_t>(v);
    } else if (*p == '.') {
      ++i;
    } else {
      break;  // "2.36-9+deb12u4" style suffixes end the number
    }
  }
  return {fields[0], fields[1], fields[2]};
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
