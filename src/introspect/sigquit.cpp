// The SIGQUIT dump: a self-pipe handler and the thread that does the work off the handler.
#include "introspect/sigquit.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include <gidlog/log.h>
#include <gidlog/options.h>
#include <gidlog/introspect/threads.h>
#include <gidlog/runtime/task_registry.h>

#include "core/thread_origin.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

constexpr char dump_byte = 'q';
constexpr char exit_byte = 'x';

struct sigquit_state {
  int pipe_rd = -1;
  std::atomic<int> pipe_wr{-1};
  pid_t pipe_pid = 0;  // the process that made the pipe: a fork() child makes its own
  bool installed = false;
  struct sigaction previous {};
  std::thread* dumper = nullptr;  // leaked in a fork() child, where the thread does not exist
};
sigquit_state g_state;

void on_sigquit(int) {
  const int saved_errno = errno;
  const int fd = g_state.pipe_wr.load(std::memory_order_relaxed);
  if (fd >= 0) (void)!::write(fd, &dump_byte, 1);  // a full pipe already holds a request
  errno = saved_errno;
}

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void dump_loop(int rd) {
  for (;;) {
    char bytes[64];
    const ssize_t n = ::read(rd, bytes, sizeof bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || std::memchr(bytes, exit_byte, static_cast<std::size_t>(n)) != nullptr) return;
    // Every SIGQUIT read here is answered by this one dump.
    const std::string text = sigquit_dump_text();
    write_all(STDERR_FILENO, text);
    GIDLOG_LOG_IF(level::warn, true, "gidlog", "SIGQUIT: thread and task profile\n{}", text);
  }
}

// In a fork() child the dump thread does not exist and the pipe is the parent's: the child acts
// as if dump_on_sigquit were off until its own start().
void forget_in_child() {
  if (!g_state.installed) return;
  ::sigaction(SIGQUIT, &g_state.previous, nullptr);
  g_state.installed = false;
  g_state.dumper = nullptr;
}

}  // namespace

std::string sigquit_dump_text() {
  std::string tasks = tasks::profile(2);
  if (tasks.empty()) tasks = "(no live tasks)\n";
  return "gidlog: SIGQUIT: threads and tasks of process " + std::to_string(::getpid()) +
         " (the process keeps running)\n\n" + threads::profile(2) + tasks;
}

void sigquit_dump_install(const source_location& loc) noexcept {
  static const bool atfork = ::pthread_atfork(nullptr, nullptr, forget_in_child) == 0;
  (void)atfork;
  if (g_state.installed) return;
  if (g_state.pipe_pid != ::getpid()) {
    if (g_state.pipe_rd >= 0) {
      ::close(g_state.pipe_rd);
      ::close(g_state.pipe_wr.load(std::memory_order_relaxed));
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      write_all(STDERR_FILENO, "gidlog: options::dump_on_sigquit: no pipe (" + std::string(std::strerror(errno)) + ")\n");
      return;
    }
    // The handler must never block; the reader blocks only in read() between dumps.
    ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
    g_state.pipe_rd = fds[0];
    g_state.pipe_wr.store(fds[1], std::memory_order_relaxed);
    g_state.pipe_pid = ::getpid();
  }
  const int rd = g_state.pipe_rd;
  try {
    g_state.dumper = new std::thread(
        start_named_thread("gidlog-sigquit", loc, "options::dump_on_sigquit", [rd] { dump_loop(rd); }));
  } catch (const std::exception& e) {
    write_all(STDERR_FILENO, std::string("gidlog: options::dump_on_sigquit: no thread (") + e.what() + ")\n");
    return;
  }
  struct sigaction sa {};
  sa.sa_handler = on_sigquit;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGQUIT, &sa, &g_state.previous);
  g_state.installed = true;
}

void sigquit_dump_uninstall() noexcept {
  if (!g_state.installed) return;
  ::sigaction(SIGQUIT, &g_state.previous, nullptr);
  g_state.installed = false;
  // The pipe stays open for the next start(): a handler still running on another thread may
  // be about to write to it.
  write_all(g_state.pipe_wr.load(std::memory_order_relaxed), std::string(1, exit_byte));
  if (g_state.dumper != nullptr) {
    g_state.dumper->join();
    delete g_state.dumper;
    g_state.dumper = nullptr;
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
