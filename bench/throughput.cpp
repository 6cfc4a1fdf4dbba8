// Throughput: N records from one thread, timed until every line is in the file (stop()
// returns), with the line count checked and peak memory (max RSS) reported. Each logger runs in
// its own child process so its peak memory is its own.
//
//   bench/throughput [--records N] [--runs R] [--skip-spdlog] [--in-process]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <gidlog/gidlog.h>

#include "bench_util.h"

namespace {

struct result {
  double seconds;
  long max_rss_kb;
  std::size_t lines;
};

result run_gidlog(int n, const std::string& path) {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
  gidlog::start(opt);
  const char* str = "a string";
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str);
  gidlog::stop();
  auto t1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double>(t1 - t0).count(), 0, bench::count_lines(path)};
}

result run_spdlog(int n, const std::string& path) {
  spdlog::init_thread_pool(8192, 1);  // spdlog's default queue size
  auto lg = spdlog::create_async<spdlog::sinks::basic_file_sink_mt>("bench", path, true);
  lg->set_pattern("[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v");
  const char* str = "a string";
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) SPDLOG_LOGGER_INFO(lg, "Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str);
  lg->flush();
  spdlog::drop_all();
  spdlog::shutdown();
  auto t1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double>(t1 - t0).count(), 0, bench::count_lines(path)};
}

// Runs `which` in a child; returns its result through a pipe.
result in_child(const char* which, int n) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(3);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string path = "/tmp/gidlog_throughput_" + std::to_string(getpid()) + ".log";
    result r = std::string(which) == "gidlog" ? run_gidlog(n, path) : run_spdlog(n, path);
    unlink(path.c_str());
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    r.max_rss_kb = ru.ru_maxrss;
    if (write(fds[1], &r, sizeof r) != sizeof r) _exit(4);
    _exit(0);
  }
  close(fds[1]);
  result r{};
  if (read(fds[0], &r, sizeof r) != sizeof r) r.lines = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1000000, runs = 5;
  bool spd = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--records" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--skip-spdlog") spd = false;
    else if (a == "--in-process") {  // one gidlog run without fork, for profilers
      std::string path = "/tmp/gidlog_throughput_" + std::to_string(getpid()) + ".log";
      result r = run_gidlog(n, path);
      unlink(path.c_str());
      std::printf("gidlog: %.2f M records/s, %zu lines\n", n / r.seconds / 1e6, r.lines);
      return r.lines == static_cast<std::size_t>(n) ? 0 : 1;
    } else {
      std::fprintf(stderr, "usage: %s [--records N] [--runs R] [--skip-spdlog]\n", argv[0]);
      return 2;
    }
  }
  std::printf("%d records of \"Logging int: {}, double: {:.3f}, str: {}\" from one thread into a file, until all are written; %d runs each, alternating\n\n", n, runs);
  std::vector<const char*> loggers = {"gidlog"};
  if (spd) loggers.push_back("spdlog");
  std::vector<std::vector<double>> rates(loggers.size());
  std::vector<long> rss(loggers.size(), 0);
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    for (std::size_t k = 0; k < loggers.size(); ++k) {
      result r = in_child(loggers[k], n);
      if (r.lines != static_cast<std::size_t>(n)) {
        std::printf("%s: expected %d lines, found %zu\n", loggers[k], n, r.lines);
        ++failures;
      }
      rates[k].push_back(n / r.seconds / 1e6);
      rss[k] = std::max(rss[k], r.max_rss_kb);
    }
  }
  std::printf("| logger        | median M records/s | min   | max   | peak RSS MB |\n");
  std::printf("|---------------|--------------------|-------|-------|-------------|\n");
  for (std::size_t k = 0; k < loggers.size(); ++k) {
    auto v = rates[k];
    std::sort(v.begin(), v.end());
    std::printf("| %-13s | %18.2f | %5.2f | %5.2f | %11.1f |\n", loggers[k], v[v.size() / 2], v.front(), v.back(),
                static_cast<double>(rss[k]) / 1024.0);
  }
  return failures == 0 ? 0 : 1;
}
