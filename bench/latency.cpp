// Caller latency, each call timed with the cycle counter: gidlog and spdlog async side by side
// in one run, with the same message, at 1 and 2 threads, next to a timer-only baseline.
//
//   bench/latency [--records N] [--pause-ns P] [--threads 1,2] [--skip-spdlog]
//
// Between calls each thread spins P ns so the backends keep up (we time the caller, not a full
// queue). After each run the file is read back and every line must be there.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <gidlog/gidlog.h>

#include "bench_util.h"

namespace {

struct config {
  int records = 100000;  // per thread
  int pause_ns = 2000;
  std::vector<int> threads = {1, 2};
  bool spdlog = true;
};

struct row {
  std::string name;
  int threads;
  std::vector<double> ns;  // every call
};

template <class F>
row measure(const std::string& name, int threads, const config& cfg, double tpn, F&& call) {
  std::vector<std::vector<std::uint64_t>> per(static_cast<std::size_t>(threads));
  std::latch go(threads);
  std::vector<std::thread> pool;
  const auto pause_ticks = static_cast<std::uint64_t>(cfg.pause_ns * tpn);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& out = per[static_cast<std::size_t>(t)];
      out.resize(static_cast<std::size_t>(cfg.records));
      go.arrive_and_wait();
      for (int i = 0; i < cfg.records; ++i) {
        bench::spin_until(gidlog::arch::cycles() + pause_ticks);
        std::uint64_t a = bench::start_stamp();
        call(i);
        std::uint64_t b = bench::end_stamp();
        out[static_cast<std::size_t>(i)] = b - a;
      }
    });
  }
  for (auto& th : pool) th.join();
  row r{name, threads, {}};
  for (auto& v : per)
    for (auto x : v) r.ns.push_back(static_cast<double>(x) / tpn);
  std::sort(r.ns.begin(), r.ns.end());
  return r;
}

double pct(const std::vector<double>& v, double p) {
  auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  return v[i];
}

void print(const row& r) {
  std::printf("| %-22s | %7d | %7.0f | %7.0f | %7.0f | %7.0f | %9.0f |\n", r.name.c_str(), r.threads, pct(r.ns, 50),
              pct(r.ns, 90), pct(r.ns, 99), pct(r.ns, 99.9), r.ns.back());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--records" && i + 1 < argc) cfg.records = std::atoi(argv[++i]);
    else if (a == "--pause-ns" && i + 1 < argc) cfg.pause_ns = std::atoi(argv[++i]);
    else if (a == "--skip-spdlog") cfg.spdlog = false;
    else if (a == "--threads" && i + 1 < argc) {
      cfg.threads.clear();
      for (char* s = std::strtok(argv[++i], ","); s != nullptr; s = std::strtok(nullptr, ",")) cfg.threads.push_back(std::atoi(s));
    } else {
      std::fprintf(stderr, "usage: %s [--records N] [--pause-ns P] [--threads 1,2] [--skip-spdlog]\n", argv[0]);
      return 2;
    }
  }
  const double tpn = bench::ticks_per_ns();
  std::printf("message \"Logging int: {}, double: {:.3f}, str: {}\", %d calls per thread, %d ns pause, %.3f ticks/ns\n\n",
              cfg.records, cfg.pause_ns, tpn);
  std::printf("| %-22s | threads | p50 ns  | p90 ns  | p99 ns  | p99.9 ns| max ns    |\n", "logger");
  std::printf("|------------------------|---------|---------|---------|---------|---------|-----------|\n");
  const char* str = "a string";
  int failures = 0;
  std::string dir = "/tmp/gidlog_latency_" + std::to_string(::getpid());
  for (int threads : cfg.threads) {
    print(measure("timer only (baseline)", threads, cfg, tpn, [](int) {}));

    std::string gpath = dir + "_gidlog.log";
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(gpath, {.truncate = true})};
    gidlog::start(opt);
    print(measure("gidlog", threads, cfg, tpn, [&](int i) {
      LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str);
    }));
    gidlog::stop();
    std::size_t got = bench::count_lines(gpath);
    ::unlink(gpath.c_str());
    if (got != static_cast<std::size_t>(threads) * static_cast<std::size_t>(cfg.records)) {
      std::printf("gidlog: expected %d lines, found %zu\n", threads * cfg.records, got);
      ++failures;
    }

    if (cfg.spdlog) {
      std::string spath = dir + "_spdlog.log";
      spdlog::init_thread_pool(1 << 20, 1);
      auto lg = spdlog::create_async<spdlog::sinks::basic_file_sink_mt>("bench", spath, true);
      lg->set_pattern("[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v");
      print(measure("spdlog async", threads, cfg, tpn, [&](int i) {
        SPDLOG_LOGGER_INFO(lg, "Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str);
      }));
      lg->flush();
      spdlog::drop_all();
      spdlog::shutdown();
      std::size_t sgot = bench::count_lines(spath);
      ::unlink(spath.c_str());
      if (sgot != static_cast<std::size_t>(threads) * static_cast<std::size_t>(cfg.records)) {
        std::printf("spdlog: expected %d lines, found %zu\n", threads * cfg.records, sgot);
        ++failures;
      }
    }
  }
  return failures == 0 ? 0 : 1;
}
