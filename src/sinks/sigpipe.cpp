// Sinks' write(2) without SIGPIPE; see sigpipe.h.
#include "sinks/sigpipe.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

thread_local bool tl_sigpipe_blocked = false;  // set by block_sigpipe_on_this_thread()

sigset_t sigpipe_set() noexcept {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  return s;
}

bool sigpipe_pending() noexcept {
  sigset_t p;
  return sigpending(&p) == 0 && sigismember(&p, SIGPIPE) == 1;
}

// Takes one pending SIGPIPE without waiting. write(2) sends its SIGPIPE to the calling thread,
// and sigtimedwait() takes a signal pending on the thread before one pending on the process.
void consume_sigpipe() noexcept {
  const sigset_t s = sigpipe_set();
  const timespec zero{0, 0};
  while (sigtimedwait(&s, nullptr, &zero) < 0 && errno == EINTR) {
  }
}

}  // namespace

void block_sigpipe_on_this_thread() noexcept {
  const sigset_t s = sigpipe_set();
  if (pthread_sigmask(SIG_BLOCK, &s, nullptr) == 0) tl_sigpipe_blocked = true;
}

ssize_t write_no_sigpipe(int fd, const void* data, std::size_t size) noexcept {
  if (tl_sigpipe_blocked) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EPIPE) {
      consume_sigpipe();  // left pending it would be harmless, but would show in SigPnd
      errno = EPIPE;
    }
    return n;
  }
  const sigset_t s = sigpipe_set();
  sigset_t old;
  if (pthread_sigmask(SIG_BLOCK, &s, &old) != 0) return ::write(fd, data, size);
  const bool pending_before = sigpipe_pending();
  const ssize_t n = ::write(fd, data, size);
  const int err = errno;
  if (n < 0 && err == EPIPE && !pending_before && sigpipe_pending()) consume_sigpipe();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
