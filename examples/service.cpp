// A small service in the shape of the Go example gidlog translates: startup records on the main
// thread, a worker_pool handling requests, a limiter around a slow dependency, and the Go
// example's goroutine leak (three jobs race to send into an unbuffered channel, one is received,
// two block forever), found by the leak check and shown with the task profile.
//
// Follow one request from the gid that submitted it to the gid that ran it: each request runs in
// a context_scope with its id (req=r-N), which the pool carries to the worker, so the console
// (pattern flag %C) and the JSON-lines copy in $TMPDIR/gidlog-service.jsonl show it on both gids, and on the
// pool's TRACE hop records of the "gidlog.runtime" logger. Run: ./dev.sh demo
//
// It also starts the debug server (gidlog::debug_server) on a free loopback port. With
// `service --serve [PORT]` it stays up while the leak is there, until Ctrl-C or SIGTERM, so the
// endpoints can be looked at (README "Introspection"); SIGQUIT dumps threads and tasks without
// stopping it (options::dump_on_sigquit).
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>
#include <gidlog/runtime.h>

using namespace std::chrono_literals;

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Go's unbuffered channel: send() blocks until a receiver took the value (or the channel is
// closed); receive() blocks until a value is sent.
template <class T>
class channel {
 public:
  bool send(T v) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return !slot_ || closed_; });
    if (closed_) return false;
    slot_ = std::move(v);
    const std::uint64_t ticket = ++puts_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return takes_ >= ticket || closed_; });
    return takes_ >= ticket;
  }
  T receive() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return slot_.has_value(); });
    T v = std::move(*slot_);
    slot_.reset();
    ++takes_;
    cv_.notify_all();
    return v;
  }
  // Wakes every blocked sender: their send() returns false.
  void close() {
    std::lock_guard g(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> slot_;
  std::uint64_t puts_ = 0;
  std::uint64_t takes_ = 0;
  bool closed_ = false;
};

// The slow dependency (a database, another service): at most two calls at once.
std::string query_backend(gidlog::limiter& backend, int request) {
  auto token = backend.acquire();  // FIFO; given back at the closing brace, even on a throw
  std::this_thread::sleep_for(5ms);  // its latency
  return "profile-" + std::to_string(request);
}

// The Go example's leak: ask three replicas, keep the first answer, return. The two slower
// replicas block forever in send(): nobody will ever receive from `answers` again.
int first_replica_answer(gidlog::limiter& replicas, channel<int>& answers) {
  for (int replica = 0; replica < 3; ++replica) {
    replicas.go([&answers, replica] {
      if (!answers.send(replica)) LOG_INFO("replica {} gave up: channel closed", replica);
    });
  }
  return answers.receive();
}

}  // namespace

int main(int argc, char** argv) {
  const bool serve = argc > 1 && std::string(argv[1]) == "--serve";
  const auto port = static_cast<std::uint16_t>(serve && argc > 2 ? std::atoi(argv[2]) : 0);
  // Ctrl-C and SIGTERM end --serve: blocked in every thread (they inherit it), taken by sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (serve) pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  gidlog::options opt;
  const std::string json_path = (std::filesystem::temp_directory_path() / "gidlog-service.jsonl").string();
  opt.sinks = {gidlog::console_sink(), gidlog::json_sink(json_path, {.file = {.truncate = true}})};
  opt.pattern = "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v%C";  // the default, plus the context
  opt.dump_on_sigquit = true;
  gidlog::start(opt);
  LOG_INFO("GameRoom Startup->");
  LOG_INFO("Start for HTTP server...");
  LOG_INFO("a JSON-lines copy of this log: {path}", json_path);
  // PUT /debug/gidlog/level needs this token (from the environment here; empty: read-only).
  const char* token = std::getenv("GIDLOG_DEBUG_TOKEN");
  gidlog::debug_server debug({.address = "127.0.0.1", .port = port, .token = token != nullptr ? token : ""});
  LOG_INFO("debug server on {}/ (threads, tasks, stats, level)", debug.url());

  gidlog::worker_pool requests({.name = "requests", .threads = 4, .max_queue = 64, .slow_job_warn = 50ms});
  gidlog::limiter backend("backend", 2);

  // Requests: follow each one from the submitting gid to the worker's gid at TRACE.
  gidlog::set_runtime_log_level(gidlog::level::trace);
  std::vector<gidlog::task<std::string>> replies;
  for (int r = 1; r <= 4; ++r) {
    gidlog::context_scope request{{"req", "r-" + std::to_string(r)}};
    LOG_INFO("accepted request {request}", r);
    replies.push_back(requests.submit([&backend, r] {
      LOG_INFO("handling request {request}", r);  // on a worker's gid, still req=r-N
      return query_backend(backend, r);
    }));
  }
  for (auto& reply : replies) LOG_INFO("reply: {}", reply.get());
  gidlog::set_runtime_log_level(gidlog::level::info);

  // The leak.
  LOG_INFO("tasks before the search: {}", gidlog::tasks::count());
  const auto snap = gidlog::leak_snapshot::take();
  channel<int> answers;
  gidlog::limiter replicas("replicas", 3);
  const int first = first_replica_answer(replicas, answers);
  LOG_INFO("first answer from replica {}; tasks now: {}", first, gidlog::tasks::count());

  const std::string report = gidlog::find_leaks(snap, 200ms);
  if (!report.empty()) LOG_WARN("leak check failed:\n{}", trimmed(report));
  LOG_INFO("goroutine-style profile:\n{}", trimmed(gidlog::tasks::profile(1)));
  LOG_INFO("threads now: {}", gidlog::threads::count());
  if (serve) {
    LOG_INFO("serving {}/debug/gidlog/ until Ctrl-C or SIGTERM (kill -QUIT {} dumps threads and tasks)", debug.url(),
             gidlog::gid());
    int sig = 0;
    sigwait(&stop_signals, &sig);
    LOG_INFO("signal {}: shutting down", sig);
  }

  // Unblock the leaked jobs so the process ends cleanly (a fixed service would use a channel
  // with room for every answer, or cancel the losers).
  answers.close();
  replicas.wait();
  LOG_INFO("after closing the channel: {} tasks, leak check {}", gidlog::tasks::count(),
           gidlog::find_leaks(snap, 1s).empty() ? "clean" : "still failing");

  requests.join();
  LOG_INFO("GameRoom Shutdown<-");
  gidlog::stop();
  return 0;
}
