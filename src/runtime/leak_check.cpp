// leak_snapshot / find_leaks: poll the task registry until the tasks started after a snapshot
// are gone.
#include <gidlog/testing/leak_check.h>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gidlog/runtime/task_registry.h>

namespace gidlog {
inline namespace v0 {

namespace {

std::vector<std::uint32_t> process_threads() {
  std::vector<std::uint32_t> out;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d)) {
      const unsigned long tid = std::strtoul(e->d_name, nullptr, 10);
      if (tid != 0) out.push_back(static_cast<std::uint32_t>(tid));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string thread_name(std::uint32_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name.empty() ? "?" : name;
}

}  // namespace

leak_snapshot leak_snapshot::take() {
  leak_snapshot s;
  for (const tasks::task_info& t : tasks::list()) s.ids_.push_back(t.id);
  std::sort(s.ids_.begin(), s.ids_.end());
  s.threads_ = process_threads();
  return s;
}

std::string find_leaks(const leak_snapshot& snap, std::chrono::milliseconds timeout) {
  return find_leaks(snap, leak_options{.timeout = timeout, .threads = false});
}

std::string find_leaks(const leak_snapshot& snap, const leak_options& opt) {
  const auto deadline = std::chrono::steady_clock::now() + opt.timeout;
  const auto extra = [&snap] {
    std::vector<tasks::task_info> out;
    for (tasks::task_info& t : tasks::list()) {
      if (!std::binary_search(snap.ids().begin(), snap.ids().end(), t.id)) out.push_back(std::move(t));
    }
    return out;
  };
  const auto extra_threads = [&snap, &opt] {
    std::vector<std::uint32_t> out;
    if (!opt.threads) return out;
    for (std::uint32_t tid : process_threads()) {
      if (!std::binary_search(snap.threads().begin(), snap.threads().end(), tid)) out.push_back(tid);
    }
    return out;
  };
  for (;;) {
    std::vector<tasks::task_info> left = extra();
    std::vector<std::uint32_t> threads = extra_threads();
    if (left.empty() && threads.empty()) return {};
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      std::string report;
      if (!left.empty()) {
        report = "found unexpected tasks:\n";
        for (const tasks::task_info& t : left) {
          report += tasks::describe(t);
          report += "\n\n";
        }
      }
      if (!threads.empty()) {
        report += "found unexpected threads:\n";
        for (std::uint32_t tid : threads) report += "thread gid-" + std::to_string(tid) + " [" + thread_name(tid) + "]\n";
      }
      return report;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50), deadline - now));
  }
}

}  // namespace v0
}  // namespace gidlog
