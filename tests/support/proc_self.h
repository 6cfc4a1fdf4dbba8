#pragma once
// What Linux says about this process and its threads, read from /proc/self: resident memory, a
// thread found by its name, its context switches and CPU time. For the footprint tests
// (tests/integration/footprint_*.cpp) and bench/footprint.cpp, which measure the logger through
// these numbers only, so they hold for any ring or backend design.
//
//   const pid_t tid = gidlog_test::thread_by_name("gidlog-backend");
//   const auto a = gidlog_test::thread_stats(tid);
//   ... idle window ...
//   const auto b = gidlog_test::thread_stats(tid);  // b.switches() - a.switches(): wake-ups
//
// Header-only and without Catch: the benchmark includes it too.
#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace gidlog_test {

// Resident memory of this process in KiB (/proc/self/statm: resident pages), -1 if unreadable.
inline long rss_kib() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = -1;
  if (!(in >> size >> resident)) return -1;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

// The id of this process's thread named `name` (/proc/self/task/*/comm, i.e. pthread_setname_np),
// 0 when there is none (or more than one: the caller cannot know which it meant).
inline pid_t thread_by_name(const std::string& name) {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return 0;
  pid_t found = 0;
  int matches = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string comm;
    std::getline(in, comm);
    if (comm == name) {
      found = static_cast<pid_t>(std::atol(e->d_name));
      ++matches;
    }
  }
  ::closedir(d);
  return matches == 1 ? found : 0;
}

struct thread_sample {
  bool ok = false;
  std::uint64_t voluntary = 0;    // voluntary_ctxt_switches: the thread blocked or slept
  std::uint64_t involuntary = 0;  // nonvoluntary_ctxt_switches: preempted while runnable
  std::uint64_t cpu_ns = 0;       // time on a CPU: schedstat's ns, else utime + stime (10 ms steps)

  // Times the thread left the CPU; a sleeping thread's wake-ups show up here.
  std::uint64_t switches() const { return voluntary + involuntary; }
};

// Context switches and CPU time of thread `tid` of this process.
inline thread_sample thread_stats(pid_t tid) {
  thread_sample s;
  const std::string dir = "/proc/self/task/" + std::to_string(tid);
  std::ifstream status(dir + "/status");
  int found = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
      s.voluntary = std::strtoull(line.c_str() + std::strlen("voluntary_ctxt_switches:"), nullptr, 10);
      ++found;
    } else if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
      s.involuntary = std::strtoull(line.c_str() + std::strlen("nonvoluntary_ctxt_switches:"), nullptr, 10);
      ++found;
    }
  }
  std::ifstream stat_in(dir + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_in)), std::istreambuf_iterator<char>());
  const auto rp = stat.rfind(')');  // the name may hold spaces and parentheses
  if (found != 2 || rp == std::string::npos) return s;
  // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  std::istringstream rest(stat.substr(rp + 2));
  std::string field;
  for (int i = 3; i < 14 && rest >> field; ++i) {
  }
  std::uint64_t utime = 0, stime = 0;
  if (!(rest >> utime >> stime)) return s;
  s.cpu_ns = (utime + stime) * (1'000'000'000ULL / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK)));
  // schedstat (CONFIG_SCHED_INFO): run time in ns, so 0.01 % of a core is visible in seconds.
  std::ifstream sched(dir + "/schedstat");
  if (std::uint64_t run_ns = 0; sched >> run_ns) s.cpu_ns = run_ns;
  s.ok = true;
  return s;
}

}  // namespace gidlog_test
