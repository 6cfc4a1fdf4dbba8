// Writes the logs gidlog-trace's tests read: one run through the real logger and runtime, to a text
// file, a JSON-lines file, a rotated text set and a rotated set gzipped by the logger at once. Six requests, each accepted on a thread of
// its own in a context_scope req=r-N, go through three pools (ingress -> parse -> store) and a
// limiter (db, one token) whose job runs on a thread of its own; the pools' workers are shared, so
// a follower has to tell the requests apart by the jobs' lifetimes, not by gid.
//   trace_log_gen DIR [PATTERN]  -> DIR/app.log, DIR/app.jsonl, DIR/rot.log (+ rot.N.log),
//                                   DIR/gz.log (+ gz.N.log.gz); with a PATTERN, DIR/app.log is
//                                   written with it and no rotated set
// Every job logs "stage X depth D" so a test can check the hop depth gidlog-trace prints.
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/sinks/json.h>
#include <gidlog/gidlog.h>
#include <gidlog/runtime.h>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: trace_log_gen DIR [PATTERN]\n");
    return 2;
  }
  const std::string dir = argv[1];
  gidlog::options opt;
  opt.pattern = "%Y-%m-%dT%H:%M:%S.%f%z %l gid-%t %s:%# %v%C";  // not the default: --pattern is tested
  if (argc == 3) opt.pattern = argv[2];
  opt.level = gidlog::level::trace;
  opt.sinks = {gidlog::file_sink(dir + "/app.log", {.truncate = true}),
               gidlog::json_sink(dir + "/app.jsonl", {.file = {.truncate = true}})};
  if (argc == 2) {
    opt.sinks.push_back(gidlog::rotating_file_sink(dir + "/rot.log", gidlog::rotation{.max_bytes = 4 << 10, .max_files = 1000},
                                                   {.truncate = true}));
    opt.sinks.push_back(gidlog::rotating_file_sink(
        dir + "/gz.log", gidlog::rotation{.max_bytes = 4 << 10, .max_files = 1000, .compress = gidlog::compression::gzip},
        {.truncate = true}));
  }
  gidlog::start(opt);
  gidlog::set_runtime_log_level(gidlog::level::trace);
  {
    gidlog::worker_pool ingress({.name = "ingress", .threads = 2});
    gidlog::worker_pool parse({.name = "parse", .threads = 2});
    gidlog::worker_pool store({.name = "store", .threads = 2, .slow_job_warn = 2ms});
    gidlog::limiter db("db", 1);

    std::vector<std::thread> accept;
    for (int r = 1; r <= 6; ++r) {
      accept.emplace_back([&, r] {
        {
          gidlog::context_scope request{{"req", "r-" + std::to_string(r)}};
          LOG_INFO("accepted request {request}", r);
          auto reply = ingress.submit([&, r] {
            LOG_INFO("stage ingress depth {depth}", 1);
            return parse.submit([&, r] {
              LOG_INFO("stage parse depth {depth}", 2);
              return store.submit([&, r] {
                LOG_INFO("stage store depth {depth}", 3);
                std::promise<int> row;
                auto got = row.get_future();
                db.go([&row, r] {
                  LOG_INFO("stage db depth {depth}", 4);
                  if (r == 3) std::this_thread::sleep_for(3ms);  // a slow query: store's job warns
                  row.set_value(r * 10);
                });
                const int v = got.get();
                if (r == 5) LOG_WARN("request {request} saw a stale row", r);
                return v;
              }).get();
            }).get();
          });
          LOG_INFO("reply {value} for request {request}", reply.get(), r);
        }
        LOG_INFO("accept thread done");  // no context: only --gid finds it
      });
    }
    for (auto& t : accept) t.join();
    db.wait();
  }
  LOG_INFO("all requests done");
  gidlog::stop();
  return 0;
}
