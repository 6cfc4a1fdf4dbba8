#include "sinks/compressor.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <new>
#include <thread>

#include "sinks/rotated_files.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

struct compressor_state {
  std::mutex m;
  std::condition_variable cv;                          // queue, busy, closing changed
  std::deque<std::shared_ptr<rotated_files>> queue;    // sinks with files to compress
  std::thread* thread = nullptr;                       // null: not started
  bool busy = false;                                   // the thread is in compress_all()
  bool closing = false;                                // stop() waits for the thread to end
  bool closed = true;                                  // nothing queued until a sink's open()
  std::atomic<bool> cancel{false};                     // stop() ran out of time
};

// Leaked: stop() runs at exit, after static destructors may have run.
compressor_state& state() {
  static compressor_state* s = new compressor_state;
  return *s;
}

std::mutex& gate() {
  static std::mutex* m = new std::mutex;
  return *m;
}

void fork_prepare() {
  state().m.lock();
  gate().lock();
}
void fork_parent() {
  gate().unlock();
  state().m.unlock();
}
// The child has no compressor thread: what the parent queued is the parent's to compress.
void fork_child() {
  gate().unlock();
  compressor_state& s = state();
  s.queue.clear();
  s.thread = nullptr;  // leaked: no thread behind it here
  s.busy = false;
  s.closing = false;
  s.closed = true;
  s.cancel.store(false, std::memory_order_relaxed);
  new (&s.cv) std::condition_variable;  // a waiter of the parent's is not here
  s.m.unlock();
}

void run() {
  // Signals are for the threads that handle them: a stop signal or SIGQUIT never lands here.
  sigset_t all;
  sigfillset(&all);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) sigdelset(&all, sig);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  pthread_setname_np(pthread_self(), "gidlog-compress");
  // Nice 10 above the process (Linux: per thread): where the CPUs are short, the backend and the
  // application come first and the compression waits (retention still bounds the disk).
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);
  if (errno == 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice + 10 > 19 ? 19 : nice + 10);
  compressor_state& s = state();
  std::unique_lock<std::mutex> lock(s.m);
  for (;;) {
    s.cv.wait(lock, [&] { return !s.queue.empty() || s.closing; });
    if (s.queue.empty()) return;  // closing, and nothing left
    std::shared_ptr<rotated_files> files = std::move(s.queue.front());
    s.queue.pop_front();
    s.busy = true;
    lock.unlock();
    files->compress_all(s.cancel);
    files.reset();
    lock.lock();
    s.busy = false;
    s.cv.notify_all();
  }
}

}  // namespace

std::mutex& compressor_fork_gate() noexcept { return gate(); }

void compressor_open() noexcept {
  compressor_state& s = state();
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(fork_prepare, fork_parent, fork_child); });
  std::lock_guard<std::mutex> lock(s.m);
  s.closed = false;
}

bool compress_later(const std::shared_ptr<rotated_files>& files) noexcept {
  compressor_state& s = state();
  std::lock_guard<std::mutex> lock(s.m);
  if (s.closing || s.closed) return false;
  if (std::find(s.queue.begin(), s.queue.end(), files) == s.queue.end()) {
    try {
      s.queue.push_back(files);
    } catch (...) {
      return false;
    }
  }
  if (s.thread == nullptr) {
    try {
      s.thread = new std::thread(run);
    } catch (const std::exception& e) {
      s.queue.clear();
      files->report(std::string("cannot start the compressor thread: ") + e.what());
      return false;
    }
  }
  s.cv.notify_all();
  return true;
}

void compressor_stop(std::chrono::milliseconds timeout) noexcept {
  compressor_state& s = state();
  std::unique_lock<std::mutex> lock(s.m);
  s.closed = true;
  if (s.thread == nullptr) return;
  s.closing = true;
  s.cv.notify_all();
  auto idle = [&] { return s.queue.empty() && !s.busy; };
  if (timeout.count() > 0 && !s.cv.wait_for(lock, timeout, idle)) {
    s.cancel.store(true, std::memory_order_relaxed);  // the files wait, uncompressed, for the next start()
    s.queue.clear();
  }
  std::thread* t = s.thread;
  lock.unlock();
  t->join();
  delete t;
  lock.lock();
  s.thread = nullptr;
  s.closing = false;
  s.cancel.store(false, std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
