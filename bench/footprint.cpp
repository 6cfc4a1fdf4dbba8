// Footprint and idle cost (issue 19): what a service pays for gidlog when it is not logging hard.
//
// 1. Memory per thread that logged once: N threads (default 200) each log ONE record and block on
//    a latch; after flush() the process's resident memory (/proc/self/statm) is compared with a
//    process whose N threads block without logging. Every measurement is a fresh child process
//    (so neither inherits the other's rings or heap), the two kinds alternate --reps times, and
//    the table takes the medians. Both log one record from the main thread first, so what a first
//    record costs once per process (the sink's buffer, the call site, the main ring) is in both.
// 2. Idle: in the first child whose threads logged, 1 s after the last record, the context
//    switches (voluntary + involuntary: its wake-ups) and CPU time (schedstat, ns) of the thread
//    named "gidlog-backend" over an idle window (--idle-window-s, default 5).
// 3. Time to file: in another child, after --idle-s seconds (default 5) without records, one
//    record is logged and the file is polled (fstat, every 50 us) until its line is there; the
//    median, min and max of --tries tries, for an INFO record and for one at options::flush_on
//    (ERROR), alternating.
//
//   bench/footprint [--threads N] [--reps R] [--idle-window-s S] [--idle-s S] [--tries K]
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "bench_util.h"
#include "proc_self.h"

namespace {

struct config {
  int threads = 200;
  int reps = 3;
  double idle_window_s = 5;
  double idle_s = 5;
  int tries = 3;
};

constexpr int max_tries = 32;

struct memory_result {
  long rss_kib = -1;
  long lines = 0;
  // Idle backend (when measured): context switches, CPU ns and the window's length.
  bool idle_measured = false;
  std::uint64_t switches = 0, voluntary = 0, involuntary = 0, cpu_ns = 0;
  double window_s = 0;
};

struct ttf_result {
  int tries = 0;
  double info_us[max_tries];   // -1: not in the file within 2 s
  double error_us[max_tries];
};

// Runs `f` in a child process and returns the T it produced (through a pipe); false on failure.
template <class T, class F>
bool in_child(F f, T& out) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const T r = f();
    if (write(fds[1], &r, sizeof r) != sizeof r) std::_Exit(4);
    std::_Exit(0);
  }
  close(fds[1]);
  const bool got = read(fds[0], &out, sizeof out) == sizeof out;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return got && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string temp_log(const char* what) { return "/tmp/gidlog_footprint_" + std::to_string(getpid()) + "_" + what + ".log"; }

// One call site for every record of the memory runs, the main thread's included.
void log_once(int i) { LOG_INFO("thread {} logs once, then blocks", i); }

memory_result memory_run(const config& cfg, bool threads_log, bool measure_idle) {
  const std::string path = temp_log(threads_log ? "log" : "nolog");
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
  gidlog::start(opt);
  log_once(-1);
  gidlog::flush();
  std::latch ready(cfg.threads), release(1);
  std::vector<std::thread> ts;
  for (int i = 0; i < cfg.threads; ++i)
    ts.emplace_back([&, i] {
      if (threads_log) log_once(i);
      ready.count_down();
      release.wait();
    });
  ready.wait();
  gidlog::flush();
  memory_result r;
  r.rss_kib = gidlog_test::rss_kib();
  if (measure_idle) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const pid_t tid = gidlog_test::thread_by_name("gidlog-backend");
    const auto a = gidlog_test::thread_stats(tid);
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(cfg.idle_window_s));
    const auto b = gidlog_test::thread_stats(tid);
    r.window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.idle_measured = tid != 0 && a.ok && b.ok;
    r.voluntary = b.voluntary - a.voluntary;
    r.involuntary = b.involuntary - a.involuntary;
    r.switches = b.switches() - a.switches();
    r.cpu_ns = b.cpu_ns - a.cpu_ns;
  }
  release.count_down();
  for (auto& t : ts) t.join();
  gidlog::stop();
  r.lines = static_cast<long>(bench::count_lines(path));
  unlink(path.c_str());
  return r;
}

void sleep_us(long us) {
  timespec ts{0, us * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// Microseconds from the LOG_* call until a line holding `marker` is in the file behind `fd`
// (read from `offset`, which moves past what was read); -1 when not there within 2 s.
template <class Log>
double time_to_file(int fd, off_t& offset, const std::string& marker, Log log) {
  std::string seen;
  const auto t0 = std::chrono::steady_clock::now();
  log();
  for (;;) {
    struct stat st {};
    if (fstat(fd, &st) == 0 && st.st_size > offset) {
      std::string chunk(static_cast<std::size_t>(st.st_size - offset), '\0');
      const ssize_t n = pread(fd, chunk.data(), chunk.size(), offset);
      if (n > 0) {
        offset += n;
        seen.append(chunk, 0, static_cast<std::size_t>(n));
        if (seen.find(marker) != std::string::npos && seen.back() == '\n')
          return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      }
    }
    if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(2)) return -1;
    sleep_us(50);
  }
}

ttf_result time_to_file_run(const config& cfg) {
  const std::string path = temp_log("ttf");
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
  gidlog::start(opt);
  LOG_INFO("first record");
  gidlog::flush();
  const int fd = open(path.c_str(), O_RDONLY);
  off_t offset = lseek(fd, 0, SEEK_END);
  ttf_result r{};
  r.tries = std::min(cfg.tries, max_tries);
  const auto idle = std::chrono::duration<double>(cfg.idle_s);
  for (int t = 0; t < r.tries; ++t) {
    std::this_thread::sleep_for(idle);
    r.info_us[t] = time_to_file(fd, offset, "info after idle " + std::to_string(t) + "\n",
                                [t] { LOG_INFO("info after idle {}", t); });
    std::this_thread::sleep_for(idle);
    r.error_us[t] = time_to_file(fd, offset, "error after idle " + std::to_string(t) + "\n",
                                 [t] { LOG_ERROR("error after idle {}", t); });
  }
  close(fd);
  gidlog::stop();
  unlink(path.c_str());
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 != 0 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string us_cell(const double* v, int n) {
  std::vector<double> xs(v, v + n);
  if (std::any_of(xs.begin(), xs.end(), [](double x) { return x < 0; })) return "not in the file within 2 s";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.0f us (min %.0f, max %.0f)", median(xs), *std::min_element(xs.begin(), xs.end()),
                *std::max_element(xs.begin(), xs.end()));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) cfg.threads = std::max(1, std::atoi(argv[++i]));
    else if (a == "--reps" && i + 1 < argc) cfg.reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--idle-window-s" && i + 1 < argc) cfg.idle_window_s = std::max(0.1, std::atof(argv[++i]));
    else if (a == "--idle-s" && i + 1 < argc) cfg.idle_s = std::max(0.0, std::atof(argv[++i]));
    else if (a == "--tries" && i + 1 < argc) cfg.tries = std::clamp(std::atoi(argv[++i]), 1, max_tries);
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--reps R] [--idle-window-s S] [--idle-s S] [--tries K]\n", argv[0]);
      return 2;
    }
  }
  std::printf("gidlog %s footprint: %d threads that each log one record and block; %d runs of each kind, "
              "alternating, each a fresh process; %u CPUs\n\n",
              GIDLOG_VERSION_STRING, cfg.threads, cfg.reps, std::thread::hardware_concurrency());
  std::fflush(stdout);
  int failures = 0;
  std::vector<double> quiet_rss, logged_rss;
  memory_result idle{};
  for (int rep = 0; rep < cfg.reps; ++rep) {
    for (const bool threads_log : {false, true}) {
      memory_result r{};
      const bool measure_idle = threads_log && rep == 0;
      const bool ok = in_child([&] { return memory_run(cfg, threads_log, measure_idle); }, r);
      const long want = threads_log ? cfg.threads + 1 : 1;
      if (!ok || r.lines != want) {
        std::printf("%s run %d failed: %ld lines, expected %ld\n", threads_log ? "logging" : "quiet", rep + 1, r.lines, want);
        ++failures;
        continue;
      }
      (threads_log ? logged_rss : quiet_rss).push_back(static_cast<double>(r.rss_kib));
      if (measure_idle) idle = r;
    }
  }
  ttf_result ttf{};
  if (!in_child([&] { return time_to_file_run(cfg); }, ttf)) {
    std::printf("time-to-file run failed\n");
    ++failures;
  }

  const double quiet = median(quiet_rss), logged = median(logged_rss);
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| RSS, %d threads that did not log (median) | %.1f MiB |\n", cfg.threads, quiet / 1024);
  std::printf("| RSS, %d threads that logged once (median) | %.1f MiB |\n", cfg.threads, logged / 1024);
  std::printf("| memory per thread that logged once | %.1f KiB |\n", (logged - quiet) / cfg.threads);
  if (idle.idle_measured && idle.window_s > 0) {
    std::printf("| backend wake-ups/s, idle (%.1f s window, 1 s after the last record) | %.1f (%llu voluntary, %llu involuntary) |\n",
                idle.window_s, static_cast<double>(idle.switches) / idle.window_s,
                static_cast<unsigned long long>(idle.voluntary), static_cast<unsigned long long>(idle.involuntary));
    std::printf("| backend CPU, idle | %.3f %% of a core |\n", 100.0 * static_cast<double>(idle.cpu_ns) / 1e9 / idle.window_s);
  } else {
    std::printf("| backend idle | not measured (no thread named gidlog-backend?) |\n");
    ++failures;
  }
  if (ttf.tries > 0) {
    std::printf("| time to file after %.1f s idle, INFO (median of %d) | %s |\n", cfg.idle_s, ttf.tries,
                us_cell(ttf.info_us, ttf.tries).c_str());
    std::printf("| time to file after %.1f s idle, ERROR = flush_on (median of %d) | %s |\n", cfg.idle_s, ttf.tries,
                us_cell(ttf.error_us, ttf.tries).c_str());
  }
  return failures == 0 ? 0 : 1;
}
