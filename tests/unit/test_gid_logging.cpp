// gid- in logged records: the TID of the thread that logged, in a fork() child, from the
// threads of a dlopen()ed library that logs, and after a failed fast-path check (one WARN).
//
// This file is also built, with GIDLOG_TEST_DL_LOGGING_LIBRARY defined, as the module
// gidlog_test_dl_logging (tests/unit/CMakeLists.txt): a plugin that logs through the executable's logger
// (the test executable exports its symbols; the module links no copy of gidlog).
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#if defined(GIDLOG_TEST_DL_LOGGING_LIBRARY)

// n threads started at once inside the module; thread i logs "dl-logging-thread i" and stores
// its syscall(SYS_gettid) in tids[i].
extern "C" __attribute__((visibility("default"))) void gidlog_test_dl_log_threads(unsigned n, std::uint32_t* tids) {
  std::latch start(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      tids[i] = static_cast<std::uint32_t>(::syscall(SYS_gettid));
      LOG_INFO("dl-logging-thread {}", i);
    });
  }
  for (auto& t : threads) t.join();
}

#else  // the unit tests

#include <dlfcn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <gidlog/detail/gid_table.h>

#include "log_capture.h"

namespace {

std::uint32_t kernel_tid() { return static_cast<std::uint32_t>(::syscall(SYS_gettid)); }

// The N of "gid-N" in a line with the default pattern, if any.
std::optional<std::uint32_t> gid_of(const std::string& line) {
  const auto at = line.find(":gid-");
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::uint32_t>(std::strtoul(line.c_str() + at + 5, nullptr, 10));
}

// Lines containing `needle`.
std::vector<std::string> grep(const std::vector<std::string>& lines, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (l.find(needle) != std::string::npos) out.push_back(l);
  return out;
}

// Forks from the calling thread; the child logs one record tagged `tag`, flushes and exits.
// Returns the child's pid (its only thread's TID), or -1.
pid_t fork_child_that_logs(const std::string& tag) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    LOG_INFO("fork-child {}", tag);
    gidlog::flush();
    ::_exit(0);
  }
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? pid : -1;
}

}  // namespace

TEST_CASE("a record logged in a fork() child carries the child's TID", "[gid]") {
  const std::string path = gidlog_test::temp_path("gid_fork.log");
  std::remove(path.c_str());
  pid_t from_main = -1, from_worker = -1;
  std::uint32_t parent_main = 0, parent_worker = 0;
  {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(path)};
    gidlog::start(opt);
    parent_main = gidlog::gid();
    LOG_INFO("parent before fork");
    gidlog::flush();  // nothing buffered in the sink for the child to inherit and write twice
    from_main = fork_child_that_logs("main");
    std::thread([&] {
      parent_worker = gidlog::gid();
      LOG_INFO("parent worker before fork");
      gidlog::flush();
      from_worker = fork_child_that_logs("worker");
    }).join();
    LOG_INFO("parent after fork");
    gidlog::stop();
  }
  REQUIRE(from_main > 0);
  REQUIRE(from_worker > 0);
  const auto lines = gidlog_test::read_lines(path);
  std::remove(path.c_str());
  INFO(lines.size() << " lines");

  const auto main_lines = grep(lines, "fork-child main");
  REQUIRE(main_lines.size() == 1);
  INFO(main_lines[0]);
  CHECK(gid_of(main_lines[0]) == static_cast<std::uint32_t>(from_main));
  CHECK(gid_of(main_lines[0]) != parent_main);

  const auto worker_lines = grep(lines, "fork-child worker");
  REQUIRE(worker_lines.size() == 1);
  INFO(worker_lines[0]);
  CHECK(gid_of(worker_lines[0]) == static_cast<std::uint32_t>(from_worker));
  CHECK(gid_of(worker_lines[0]) != parent_worker);

  const auto parent_lines = grep(lines, "parent after fork");
  REQUIRE(parent_lines.size() == 1);
  CHECK(gid_of(parent_lines[0]) == parent_main);
}

TEST_CASE("records logged by the threads of a dlopen()ed library carry their TIDs", "[gid]") {
  void* lib = ::dlopen(GIDLOG_TEST_DL_LOGGING_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  INFO(GIDLOG_TEST_DL_LOGGING_PATH << ": " << (lib ? "" : ::dlerror()));
  REQUIRE(lib != nullptr);
  auto log_threads = reinterpret_cast<void (*)(unsigned, std::uint32_t*)>(::dlsym(lib, "gidlog_test_dl_log_threads"));
  REQUIRE(log_threads != nullptr);

  constexpr unsigned n = 200;
  std::vector<std::uint32_t> tids(n);
  gidlog_test::logger_session session;
  log_threads(n, tids.data());
  const auto lines = grep(session.lines(), "dl-logging-thread ");
  REQUIRE(lines.size() == n);
  std::map<unsigned, std::uint32_t> logged;  // thread index -> gid in its record
  for (const auto& l : lines) {
    const auto at = l.find("dl-logging-thread ");
    logged[static_cast<unsigned>(std::strtoul(l.c_str() + at + 18, nullptr, 10))] = gid_of(l).value_or(0);
  }
  REQUIRE(logged.size() == n);
  unsigned right = 0;
  for (unsigned i = 0; i < n; ++i) right += logged[i] == tids[i] ? 1u : 0u;
  CHECK(right == n);
}

// gidlog::start() installs the gid warn hook, which logs the reason at WARN.
TEST_CASE("a failed fast-path check after start() logs one WARN record saying why", "[gid][hook]") {
  if (gidlog::gid_method() != gidlog::gid_source::fast) return;
  gidlog_test::logger_session session;
  // The backend thread must have made its first gid() call (and check) before the offset goes
  // wrong, or it may be the thread that catches it: one record through it guarantees that.
  LOG_INFO("before the switch");
  gidlog::flush();
  // Pretend the offset verified only by chance on this thread: a new thread's check fails.
  gidlog::detail::gid_fast.tp_offset.fetch_add(4);
  std::uint32_t g = 0, t = 0;
  std::thread([&] {
    g = gidlog::gid();
    t = kernel_tid();
    LOG_INFO("after the switch");
  }).join();
  CHECK(g == t);
  CHECK(gidlog::gid_method() == gidlog::gid_source::syscall);
  const auto lines = session.lines();
  const auto warns = grep(lines, ":WARN:");
  REQUIRE(warns.size() == 1);
  INFO(warns[0]);
  CHECK(warns[0].find("failed its check on thread " + std::to_string(t)) != std::string::npos);
  const auto after = grep(lines, "after the switch");
  REQUIRE(after.size() == 1);
  CHECK(gid_of(after[0]) == t);
  gidlog::detail::gid_reinit_for_test();
}

#endif  // GIDLOG_TEST_DL_LOGGING_LIBRARY
