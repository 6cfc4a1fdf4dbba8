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
// With Catch2, <gidlog/runtime/catch2.h> has GIDLOG_CHECK_NO_LEAKS(snap) and
// GIDLOG_REQUIRE_NO_LEAKS(snap).
//
// Tasks registered while registration was off (tasks::set_registration) are invisible to it.
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

 private:
  std::vector<std::uint64_t> ids_;
};

// Polls every 50 ms, for at most `timeout`, until no task absent from `snap` is live. Returns ""
// then, or, at the timeout, "found unexpected tasks:\n" followed by the tasks::profile(2) entry
// of each remaining task (separated by blank lines). Returns at once when nothing leaked.
std::string find_leaks(const leak_snapshot& snap, std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace v0
}  // namespace gidlog
