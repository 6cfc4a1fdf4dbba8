// gidlog-trace's reading speed: lines per second parsed and filtered by the code `follow` runs
// (reader + pattern or JSON parse + hop tracking + filter), on a log written here in the shape a
// service writes: 16 gids, context on every line, every 64th line a pool job's "started" hop record
// and 16 lines later (same gid) its "finished" one.
//
//   bench/trace_throughput [--lines N] [--runs R] [--json]
//
// Prints each run and the median with min and max. The file is read once before timing so the
// page cache holds it: what is measured is the tool, not the disk.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "follow.h"
#include "reader.h"
#include "util.h"

namespace {

std::string make_log(std::size_t n, bool json) {
  char path[] = "/tmp/gidlog-trace-bench-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) std::exit(2);
  std::FILE* f = fdopen(fd, "w");
  std::uint64_t job = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned gid = 4700 + static_cast<unsigned>(i % 16);
    const unsigned req = static_cast<unsigned>(i / 8);
    const unsigned ms = static_cast<unsigned>(i / 1000 % 1000), sec = static_cast<unsigned>(i / 1'000'000 % 60);
    if (i % 64 == 16) {  // the job started 16 lines ago, on this gid
      if (json)
        std::fprintf(f, "{\"ts\":\"2026-11-30T19:28:%02u.%03u000000Z\",\"level\":\"TRACE\",\"gid\":%u,\"file\":\"worker_pool.cpp\",\"line\":294,\"func\":\"run_job\",\"logger\":\"gidlog.runtime\",\"msg\":\"pool \\\"requests\\\": job %llu finished on gid-%u in 80 us (ok), submitted by gid-4700\",\"owner\":\"pool \\\"requests\\\"\",\"job\":%llu,\"ctx\":{\"req\":\"r-%u\"}}\n",
                     sec, ms, gid, static_cast<unsigned long long>(job), gid, static_cast<unsigned long long>(job), req);
      else
        std::fprintf(f, "[1130/1928%02u.%03u:TRACE:gid-%u:worker_pool.cpp:294] pool \"requests\": job %llu finished on gid-%u in 80 us (ok), submitted by gid-4700 req=r-%u\n",
                     sec, ms, gid, static_cast<unsigned long long>(job), gid, req);
    } else if (json) {
      if (i % 64 == 0 && ++job != 0)
        std::fprintf(f, "{\"ts\":\"2026-11-30T19:28:%02u.%03u000000Z\",\"level\":\"TRACE\",\"gid\":%u,\"file\":\"worker_pool.cpp\",\"line\":281,\"func\":\"run_job\",\"logger\":\"gidlog.runtime\",\"msg\":\"pool \\\"requests\\\": job %llu started on gid-%u, submitted by gid-4700, queue wait 12 us\",\"tmpl\":\"{owner}: job {job} started on gid-{executor}, submitted by gid-{submitter}, queue wait {wait_us} us\",\"owner\":\"pool \\\"requests\\\"\",\"job\":%llu,\"executor\":%u,\"submitter\":4700,\"wait_us\":12,\"ctx\":{\"req\":\"r-%u\"}}\n",
                     sec, ms, gid, static_cast<unsigned long long>(job), gid, static_cast<unsigned long long>(job), gid, req);
      else
        std::fprintf(f, "{\"ts\":\"2026-11-30T19:28:%02u.%03u000000Z\",\"level\":\"INFO\",\"gid\":%u,\"file\":\"handler.cpp\",\"line\":%u,\"func\":\"handle\",\"logger\":\"main\",\"msg\":\"handled step %zu of the request in 3.2 ms\",\"tmpl\":\"handled step {step} of the request in {ms} ms\",\"step\":%zu,\"ms\":3.2,\"ctx\":{\"req\":\"r-%u\",\"user_id\":7}}\n",
                     sec, ms, gid, 40 + static_cast<unsigned>(i % 7), i % 9, i % 9, req);
    } else if (i % 64 == 0) {
      ++job;
      std::fprintf(f, "[1130/1928%02u.%03u:TRACE:gid-%u:worker_pool.cpp:281] pool \"requests\": job %llu started on gid-%u, submitted by gid-4700, queue wait 12 us req=r-%u\n",
                   sec, ms, gid, static_cast<unsigned long long>(job), gid, req);
    } else {
      std::fprintf(f, "[1130/1928%02u.%03u:INFO:gid-%u:handler.cpp:%u] handled step %zu of the request in 3.2 ms req=r-%u user_id=7\n",
                   sec, ms, gid, 40 + static_cast<unsigned>(i % 7), i % 9, req);
    }
  }
  std::fclose(f);
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t lines = 2'000'000;
  int runs = 7;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--lines" && i + 1 < argc) lines = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--json") json = true;
    else {
      std::fprintf(stderr, "usage: trace_throughput [--lines N] [--runs R] [--json]\n");
      return 2;
    }
  }
  const std::string path = make_log(lines, json);
  struct stat st_file {};
  ::stat(path.c_str(), &st_file);
  gidlog_trace::reader_options ro;
  ro.pattern = "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v%C";  // the service's: context pairs to split off
  ro.year = 2026;
  std::vector<double> rates;
  for (int run = -1; run < runs; ++run) {  // run -1 warms the page cache
    gidlog_trace::scanner sc(ro);
    gidlog_trace::follower trail({{}, "req", "r-1000"});
    gidlog_trace::record_filter filter;
    filter.min_level = gidlog_trace::level::info;
    std::size_t kept = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto st = sc.run({path}, [&](const gidlog_trace::record& r) {
      if (trail.visit(r) >= 0 && filter.pass(r)) ++kept;
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (st.records != lines || kept == 0) {
      std::fprintf(stderr, "trace_throughput: read %llu of %zu records, kept %zu\n",
                   static_cast<unsigned long long>(st.records), lines, kept);
      unlink(path.c_str());
      return 1;
    }
    if (run < 0) continue;
    rates.push_back(static_cast<double>(lines) / s / 1e6);
    std::printf("run %d: %.2f M lines/s (%zu kept)\n", run + 1, rates.back(), kept);
  }
  unlink(path.c_str());
  std::sort(rates.begin(), rates.end());
  // Peak memory against the file's size: the reader streams, so the first stays small.
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("%s lines, %zu per run (%.0f MB): median %.2f M lines/s, min %.2f, max %.2f (%d runs); peak RSS %.1f MB\n",
              json ? "JSON" : "text", lines, static_cast<double>(st_file.st_size) / 1e6, rates[rates.size() / 2],
              rates.front(), rates.back(), runs, static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}
