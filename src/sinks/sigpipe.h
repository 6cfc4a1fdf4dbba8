#pragma once
// Writing to a pipe or socket whose reader is gone makes the kernel send SIGPIPE to the writing
// thread, and SIGPIPE's default action ends the process. A logger must never do that: a sink
// writes with write_no_sigpipe(), so a closed reader becomes EPIPE, a sink error like any other.
#include <sys/types.h>

#include <cstddef>

namespace gidlog {
inline namespace v0 {
namespace detail {

// Blocks SIGPIPE on the calling thread for the rest of its life. The backend thread calls it
// first thing: its writes then pay nothing extra, and an EPIPE's SIGPIPE is consumed there.
void block_sigpipe_on_this_thread() noexcept;

// write(2) that cannot raise SIGPIPE on any thread. On a thread that did not block SIGPIPE (a
// caller writing synchronously before start() or after stop()) it blocks SIGPIPE around the
// call, consumes the SIGPIPE this write raised, and restores the thread's mask; a SIGPIPE that
// was pending before is left pending. Returns what write(2) returns, with its errno.
ssize_t write_no_sigpipe(int fd, const void* data, std::size_t size) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
