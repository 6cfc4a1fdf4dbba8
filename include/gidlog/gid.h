#pragma once
// gidlog::gid(): the calling thread's kernel task id (TID). Placeholder until the fast path
// (issue 3) lands: a correct, slower syscall.
#include <cstdint>
#include <sys/syscall.h>
#include <unistd.h>

namespace gidlog {
inline namespace v0 {

inline std::uint32_t gid() noexcept { return static_cast<std::uint32_t>(::syscall(SYS_gettid)); }

}  // namespace v0
}  // namespace gidlog
