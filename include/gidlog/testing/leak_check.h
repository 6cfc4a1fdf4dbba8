#pragma once
// Leak checks for tests, with leaktest/goleak semantics: snapshot the live tasks, run the code
// under test, then poll until every task that appeared after the snapshot has finished, or fail
// with the profile of those that remain.
//
//   auto snap = gidlog::leak_snapshot::take();
//   run_code_under_test();
//   std::string report = gidlog::find_leaks(snap);            // polls up to 5 s
//   if (!report.empty()) std::fputs(report.c_str(), stderr);
//
// With Catch2, <gidlog/testing/catch2.h> has GIDLOG_CHECK_NO_LEAKS(snap) and
// GIDLOG_REQUIRE_NO_LEAKS(snap).
//
// Tasks registered while registration was off (tasks::set_registration) are invisible to it.
// Threads are checked too when asked (leak_options::threads): every thread of the process
// (/proc/self/task) that did not exist at take() must have exited. That catches raw
// std::thread/detached threads the registry cannot see, but also counts threads a test starts on
// purpose and keeps (a logger backend started after take(), a pool that outlives the check), and
// helper threads a runtime starts lazily (ThreadSanitizer's, with the first pthread_create).
// A thread id the kernel reused after take() goes unnoticed.
//
// Threading: take() and find_leaks() may be called from any thread; a snapshot is a value.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gidlog {
inline namespace v0 {

class leak_snapshot {
 public:
  // Records the ids of the tasks live now; they are never reported as leaks.
  static leak_snapshot take();

  // Ids of the tasks that were live at take(), sorted.
  const std::vector<std::uint64_t>& ids() const noexcept { return ids_; }
  // Kernel thread ids (gids) of the process's threads at take(), sorted.
  const std::vector<std::uint32_t>& threads() const noexcept { return threads_; }

 private:
  std::vector<std::uint64_t> ids_;
  std::vector<std::uint32_t> threads_;
};

struct leak_options {
  // How long to poll (every 50 ms) before reporting.
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
  // Also require every thread started after take() to have exited.
  bool threads = false;
};

// Polls every 50 ms, for at most `timeout`, until no task absent from `snap` is live. Returns ""
// then, or, at the timeout, "found unexpected tasks:\n" followed by the tasks::profile(2) entry
// of each remaining task (separated by blank lines). Returns at once when nothing leaked.
std::string find_leaks(const leak_snapshot& snap, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The same with options. With threads, the report (or its second part) lists each remaining new
// thread after "found unexpected threads:" as "thread gid-N [name]".
//   std::string r = gidlog::find_leaks(snap, {.timeout = std::chrono::seconds(1), .threads = true});
std::string find_leaks(const leak_snapshot& snap, const leak_options& opt);

}  // namespace v0
}  // namespace gidlog
