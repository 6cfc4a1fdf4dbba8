// Throughput: N records from one thread, timed until every line is in the file (stop()
// returns), with the line count checked and peak memory (max RSS) reported. Each logger runs in
// its own child process so its peak memory is its own.
//
//   bench/throughput [--records N] [--runs R] [--skip-spdlog] [--in-process] [--sink LIST]
//
// --sink: which gidlog sinks to run, comma-separated, each its own row (default: text):
//   text      file_sink, the default pattern
//   json      json_sink (one JSON object per line; each line checked to be one whole object)
//   rotating  rotating_file_sink rotating every 16 MiB (the lines counted across its files)
//   journald  journald_sink into a private systemd-journald that the run starts (as the tests do:
//             tests/support/journald_daemon.h; needs root and /lib/systemd/systemd-journald),
//             timed until journald has written every record (stop(), then its Synchronize call),
//             counted with journalctl. At most 200 000 records (each run's journal is ~1 KiB a
//             record); the row's rate is over the records it sent.
//   rotating-gz the same with rotation::compress = gzip: each rotated file gzipped by the compressor
//             thread (lines counted through zlib). Its time still runs to stop(), which waits for the
//             last compressions; the line after the table also gives the rate up to flush() (every
//             line in the files) and how long stop() then waited.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <gidlog/gidlog.h>
#include <gidlog/sinks/file.h>
#include <gidlog/sinks/journald.h>
#ifdef GIDLOG_BENCH_ZLIB
#include <zlib.h>
#endif

#include "bench_util.h"
#include "journald_daemon.h"

namespace {

struct result {
  double seconds;        // until stop() returned
  long max_rss_kb;
  std::size_t lines;
  double flush_seconds;  // until flush() returned: every line in the files
};

// The files a gidlog row wrote: the path, and for `rotating` the rotated ones before it.
std::vector<std::string> written_files(const std::string& sink, const std::string& path) {
  std::vector<std::string> files;
  if (sink == "rotating" || sink == "rotating-gz") {
    const std::string stem = path.substr(0, path.rfind('.'));
    for (int i = 1;; ++i) {
      const std::string n = stem + "." + std::to_string(i) + ".log";
      if (access(n.c_str(), F_OK) == 0) files.insert(files.begin(), n);
      else if (access((n + ".gz").c_str(), F_OK) == 0) files.insert(files.begin(), n + ".gz");
      else break;
    }
  }
  files.push_back(path);
  return files;
}

// Lines in `files`; for json, only lines that are one whole object ({"ts":" ... }).
std::size_t count_written(const std::string& sink, const std::vector<std::string>& files) {
  std::size_t lines = 0;
  for (const std::string& f : files) {
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".gz") == 0) {
#ifdef GIDLOG_BENCH_ZLIB
      gzFile gz = gzopen(f.c_str(), "rb");
      char buf[1 << 16];
      for (int got; gz != nullptr && (got = gzread(gz, buf, sizeof buf)) > 0;) lines += std::count(buf, buf + got, '\n');
      if (gz != nullptr) gzclose(gz);
#endif
      continue;
    }
    if (sink != "json") {
      lines += bench::count_lines(f);
      continue;
    }
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) lines += line.rfind("{\"ts\":\"", 0) == 0 && line.back() == '}';
  }
  return lines;
}

// The records a journald row sends: its journal takes ~1 KiB a record in /tmp.
constexpr int journald_max_records = 200000;

int records_for(const std::string& logger, int n) {
  return logger.ends_with("journald") ? std::min(n, journald_max_records) : n;
}

// The journald row: a private journald for this run, timed until it has written every record.
result run_journald(int n) {
  gidlog_test::journald_daemon d;
  gidlog::options opt;
  opt.sinks = {gidlog::journald_sink({.socket_path = d.socket(), .syslog_identifier = "gidlog-bench"})};
  gidlog::start(opt);
  const char* str = "a string";
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str);
  gidlog::stop();
  d.sync();
  auto t1 = std::chrono::steady_clock::now();
  const std::string out = d.journalctl({"-o", "cat", "SYSLOG_IDENTIFIER=gidlog-bench"});
  const auto lines = static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n'));
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  return {secs, 0, lines, secs};
}

result run_gidlog(int n, const std::string& path, const std::string& sink = "text") {
  if (sink == "journald") return run_journald(n);
  gidlog::options opt;
  if (sink == "json") opt.sinks = {gidlog::json_sink(path, {.file = {.truncate = true}})};
  else if (sink == "rotating")
    opt.sinks = {gidlog::rotating_file_sink(path, {.max_bytes = 16 << 20, .max_files = 100}, {.truncate = true})};
  else if (sink == "rotating-gz")
    opt.sinks = {gidlog::rotating_file_sink(
        path, {.max_bytes = 16 << 20, .max_files = 100, .compress = gidlog::compression::gzip}, {.truncate = true})};
  else opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
  gidlog::start(opt);
  const char* str = "a string";
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str);
  gidlog::flush();
  auto tf = std::chrono::steady_clock::now();
  gidlog::stop();
  auto t1 = std::chrono::steady_clock::now();
  const auto files = written_files(sink, path);
  result r{std::chrono::duration<double>(t1 - t0).count(), 0, count_written(sink, files),
           std::chrono::duration<double>(tf - t0).count()};
  for (std::size_t i = 0; i + 1 < files.size(); ++i) unlink(files[i].c_str());  // the path: by the caller
  return r;
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
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  return {secs, 0, bench::count_lines(path), secs};
}

// Runs `which` ("spdlog", or "gidlog" with a sink: "gidlog json") in a child; returns its result
// through a pipe.
result in_child(const std::string& which, int n) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(3);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string path = "/tmp/gidlog_throughput_" + std::to_string(getpid()) + ".log";
    result r = which == "spdlog" ? run_spdlog(n, path)
               : which == "gidlog" ? run_gidlog(n, path)
                                   : run_gidlog(n, path, which.substr(which.find(' ') + 1));
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
  bool spd = true, in_process = false;
  std::vector<std::string> sinks;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--records" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--skip-spdlog") spd = false;
    else if (a == "--in-process") in_process = true;  // one gidlog run without fork, for profilers
    else if (a == "--sink" && i + 1 < argc) {
      std::string list = argv[++i];
      for (std::size_t b = 0, e; b <= list.size(); b = e + 1) {
        e = std::min(list.find(',', b), list.size());
        sinks.push_back(list.substr(b, e - b));
        if (sinks.back() != "text" && sinks.back() != "json" && sinks.back() != "rotating" &&
            sinks.back() != "journald" && sinks.back() != "rotating-gz") {
          std::fprintf(stderr, "%s: unknown sink \"%s\" (text, json, rotating, rotating-gz, journald)\n", argv[0],
                       sinks.back().c_str());
          return 2;
        }
      }
    } else {
      std::fprintf(stderr, "usage: %s [--records N] [--runs R] [--skip-spdlog] [--in-process] [--sink text,json,rotating,rotating-gz,journald]\n", argv[0]);
      return 2;
    }
  }
  if (sinks.empty()) sinks.push_back("text");
  if (in_process) {
    std::string path = "/tmp/gidlog_throughput_" + std::to_string(getpid()) + ".log";
    const int m = records_for(sinks.front(), n);
    result r = run_gidlog(m, path, sinks.front());
    unlink(path.c_str());
    std::printf("gidlog %s: %.2f M records/s, %zu lines\n", sinks.front().c_str(), m / r.seconds / 1e6, r.lines);
    return r.lines == static_cast<std::size_t>(m) ? 0 : 1;
  }
  std::printf("%d records of \"Logging int: {}, double: {:.3f}, str: {}\" from one thread into a file, until all are written; %d runs each, alternating\n\n", n, runs);
  std::vector<std::string> loggers;
  for (const std::string& sink : sinks) loggers.push_back(sink == "text" ? "gidlog" : "gidlog " + sink);
  if (spd) loggers.push_back("spdlog");
  std::vector<std::vector<double>> rates(loggers.size()), flush_rates(loggers.size()), stop_waits(loggers.size());
  std::vector<long> rss(loggers.size(), 0);
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    for (std::size_t k = 0; k < loggers.size(); ++k) {
      const int m = records_for(loggers[k], n);
      result r = in_child(loggers[k], m);
      if (r.lines != static_cast<std::size_t>(m)) {
        std::printf("%s: expected %d lines, found %zu\n", loggers[k].c_str(), m, r.lines);
        ++failures;
      }
      rates[k].push_back(m / r.seconds / 1e6);
      flush_rates[k].push_back(m / r.flush_seconds / 1e6);
      stop_waits[k].push_back((r.seconds - r.flush_seconds) * 1e3);
      rss[k] = std::max(rss[k], r.max_rss_kb);
    }
  }
  std::printf("| logger             | median M records/s | min   | max   | peak RSS MB |\n");
  std::printf("|--------------------|--------------------|-------|-------|-------------|\n");
  for (std::size_t k = 0; k < loggers.size(); ++k) {
    auto v = rates[k];
    std::sort(v.begin(), v.end());
    const int p = v.back() < 0.1 ? 4 : 2;  // the journald row runs at thousands of records/s
    std::printf("| %-18s | %18.*f | %5.*f | %5.*f | %11.1f |\n", loggers[k].c_str(), p, v[v.size() / 2], p, v.front(), p,
                v.back(), static_cast<double>(rss[k]) / 1024.0);
  }
  for (std::size_t k = 0; k < loggers.size(); ++k) {
    if (loggers[k].find("rotating") == std::string::npos) continue;
    auto f = flush_rates[k], w = stop_waits[k];
    std::sort(f.begin(), f.end());
    std::sort(w.begin(), w.end());
    std::printf("%s: %.2f M records/s up to flush() (median), then stop() took %.0f ms (median)\n", loggers[k].c_str(),
                f[f.size() / 2], w[w.size() / 2]);
  }
  return failures == 0 ? 0 : 1;
}
