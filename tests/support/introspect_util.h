#pragma once
// Helpers for tests/integration/introspect_*.cpp: a gate threads block on, wait (bounded) until
// /proc shows a thread in a state, and look a thread up in a threads::list().
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/introspect/threads.h>

// The names of a test's own (internal) functions on a stack come from libdw; a build without it
// (-DGIDLOG_LIBDW=OFF: dladdr(), exported names only) checks everything else.
#ifdef GIDLOG_TEST_NO_LIBDW
#define CHECK_SYMBOLIZED(...) static_cast<void>(0)
#else
#define CHECK_SYMBOLIZED(...) CHECK(__VA_ARGS__)
#endif

#if defined(__SANITIZE_THREAD__)
#define GIDLOG_TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GIDLOG_TEST_UNDER_TSAN 1
#endif
#endif

namespace gidlog_test {

#ifdef GIDLOG_TEST_UNDER_TSAN
inline constexpr bool under_tsan = true;
#else
inline constexpr bool under_tsan = false;
#endif

// What a test's threads block on (a condition variable wait) until the test releases them.
struct gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;

  void wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

inline std::string proc_task_file(std::uint32_t tid, const char* file) {
  std::FILE* f = std::fopen(("/proc/self/task/" + std::to_string(tid) + "/" + file).c_str(), "r");
  if (f == nullptr) return {};
  char buf[256] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  return ok ? std::string(buf) : std::string();
}

// Polls (every millisecond, at most 10 s) until the thread sleeps in the kernel in the wait
// named by `wait_channel` (a fragment of /proc wchan, e.g. "pipe_read") or in system call
// `syscall_nr`: a thread that has signalled "about to block" may not have got there yet. True
// when it has.
inline bool wait_until_blocked(std::uint32_t tid, const std::string& wait_channel, long syscall_nr) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const std::string wchan = proc_task_file(tid, "wchan");
    const std::string sc = proc_task_file(tid, "syscall");
    const bool in_syscall = !sc.empty() && sc.rfind("running", 0) != 0 && std::strtol(sc.c_str(), nullptr, 10) == syscall_nr;
    if (wchan.find(wait_channel) != std::string::npos || in_syscall) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Starts and joins one thread, so that helper threads a runtime starts with the process's first
// pthread_create (ThreadSanitizer's) exist before a thread snapshot and are not counted as leaks.
inline void start_runtime_helpers() { std::thread([] {}).join(); }

inline const gidlog::threads::thread_info* find_thread(const std::vector<gidlog::threads::thread_info>& all,
                                                       std::uint32_t gid) {
  for (const auto& t : all) {
    if (t.gid == gid) return &t;
  }
  return nullptr;
}

// True when a frame of t's stack names a function containing `name`.
inline bool stack_names(const gidlog::threads::thread_info& t, const std::string& name) {
  for (const auto& f : t.stack) {
    if (f.function.find(name) != std::string::npos) return true;
  }
  return false;
}

}  // namespace gidlog_test
