// leak_snapshot / find_leaks: poll the task registry until the tasks started after a snapshot
// are gone.
#include <gidlog/runtime/leak_check.h>

#include <algorithm>
#include <thread>

#include <gidlog/runtime/tasks.h>

namespace gidlog {
inline namespace v0 {

leak_snapshot leak_snapshot::take() {
  leak_snapshot s;
  for (const tasks::task_info& t : tasks::list()) s.ids_.push_back(t.id);
  std::sort(s.ids_.begin(), s.ids_.end());
  return s;
}

std::string find_leaks(const leak_snapshot& snap, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto extra = [&snap] {
    std::vector<tasks::task_info> out;
    for (tasks::task_info& t : tasks::list()) {
      if (!std::binary_search(snap.ids().begin(), snap.ids().end(), t.id)) out.push_back(std::move(t));
    }
    return out;
  };
  for (;;) {
    std::vector<tasks::task_info> left = extra();
    if (left.empty()) return {};
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      std::string report = "found unexpected tasks:\n";
      for (const tasks::task_info& t : left) {
        report += tasks::describe(t);
        report += "\n\n";
      }
      return report;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50), deadline - now));
  }
}

}  // namespace v0
}  // namespace gidlog
