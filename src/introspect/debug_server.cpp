// gidlog::debug_server over cpp-httplib: routes, limits, and a connection queue that serves the
// newest connections first under a flood.
#include <gidlog/introspect/debug_server.h>

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <gidlog/log.h>
#include <gidlog/options.h>
#include <gidlog/introspect/threads.h>
#include <gidlog/runtime/task_registry.h>

#include "introspect/debug_stats.h"
#include "core/thread_origin.h"

namespace gidlog {
inline namespace v0 {

namespace {

constexpr std::size_t max_body_bytes = 4096;
// httplib waits this long (whole seconds) for a connection's request.
constexpr time_t keep_alive_seconds = 1;
// One request per connection: a thread serves a connection until it is closed, so keeping it
// open for a next request would hold the thread for keep_alive_seconds after every answer.
constexpr std::size_t keep_alive_requests = 1;
constexpr int listen_backlog = 256;

// httplib's task queue: each connection is a task. Under a flood (more connections waiting than
// there are threads) the newest is served first: a real request that arrives behind hundreds of
// idle or slow connections is answered within one keep-alive timeout instead of after all of
// them. Tasks left at shutdown still run: httplib then closes their connections at once.
class connection_queue final : public httplib::TaskQueue {
 public:
  // Made by httplib on its listening thread; `creator` is the thread that made the server.
  connection_queue(std::size_t threads, const source_location& loc, std::uint32_t creator) {
    for (std::size_t i = 0; i < threads; ++i) {
      workers_.push_back(detail::start_named_thread("gidlog-http", loc, "gidlog::debug_server", [this] { run(); }, creator));
    }
  }
  ~connection_queue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;
        if (jobs_.size() > workers_.size()) {
          fn = std::move(jobs_.back());
          jobs_.pop_back();
        } else {
          fn = std::move(jobs_.front());
          jobs_.pop_front();
        }
      }
      fn();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

void check(const debug_options& o) {
  const auto invalid = [](const char* field, const char* why) {
    throw std::invalid_argument(fmt::format("gidlog::debug_options::{}: {}", field, why));
  };
  if (o.address.empty()) invalid("address", "must not be empty");
  if (o.threads < 1 || o.threads > 64) invalid("threads", "must be between 1 and 64");
  if (o.read_timeout < std::chrono::milliseconds(10) || o.read_timeout > std::chrono::seconds(60))
    invalid("read_timeout", "must be between 10 ms and 60 s");
}

// The debug= parameter: absent means 1; anything but 1 or 2 is a bad request.
bool debug_level(const httplib::Request& req, httplib::Response& res, int& debug) {
  debug = 1;
  if (!req.has_param("debug")) return true;
  const std::string v = req.get_param_value("debug");
  if (v == "1" || v == "2") {
    debug = v[0] - '0';
    return true;
  }
  res.status = 400;
  res.set_content("bad debug= value \"" + v.substr(0, 32) + "\": want 1 (grouped) or 2 (every one)\n", "text/plain");
  return false;
}

// Constant-time comparison, so a wrong token's timing says nothing about the right one.
// `expected` is never empty.
bool same_secret(std::string_view given, std::string_view expected) {
  std::size_t diff = given.size() ^ expected.size();
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  return diff == 0;
}

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "payload too large";
    case 414: return "URI too long";
    default: return status >= 500 ? "server error" : "error";
  }
}

std::string trimmed(std::string s) {
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), blank));
  while (!s.empty() && blank(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

constexpr const char* index_page = R"(<!DOCTYPE html>
<html><head><title>gidlog debug</title></head><body>
<h1>gidlog debug</h1>
<ul>
<li><a href="/debug/gidlog/threads?debug=1">threads?debug=1</a>: every thread, identical stacks grouped</li>
<li><a href="/debug/gidlog/threads?debug=2">threads?debug=2</a>: every thread with state, age and stack</li>
<li><a href="/debug/gidlog/tasks?debug=1">tasks?debug=1</a>: live pool and limiter tasks, grouped by site</li>
<li><a href="/debug/gidlog/tasks?debug=2">tasks?debug=2</a>: every live task</li>
<li><a href="/debug/gidlog/stats">stats</a>: queue, throughput, counters, sinks (JSON)</li>
<li><a href="/debug/gidlog/level">level</a>: the run-time level (PUT/POST to change, with the token)</li>
</ul>
</body></html>
)";

}  // namespace

struct debug_server::impl {
  debug_options opt;
  source_location loc;
  httplib::Server http;
  std::uint16_t port = 0;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  detail::rate_meter written_rate;

  void routes();
  void level_change(const httplib::Request& req, httplib::Response& res);
};

void debug_server::impl::routes() {
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(index_page, "text/html"); });
  http.Get("/debug/gidlog/threads", [](const httplib::Request& req, httplib::Response& res) {
    int debug = 1;
    if (debug_level(req, res, debug)) res.set_content(threads::profile(debug), "text/plain");
  });
  http.Get("/debug/gidlog/tasks", [](const httplib::Request& req, httplib::Response& res) {
    int debug = 1;
    if (debug_level(req, res, debug)) res.set_content(tasks::profile(debug), "text/plain");
  });
  http.Get("/debug/gidlog/stats", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(detail::stats_json(written_rate), "application/json");
  });
  http.Get("/debug/gidlog/level", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(level_name(get_level())) + "\n", "text/plain");
  });
  const auto change = [this](const httplib::Request& req, httplib::Response& res) { level_change(req, res); };
  http.Put("/debug/gidlog/level", change);
  http.Post("/debug/gidlog/level", change);
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string text = std::to_string(res.status) + " " + reason(res.status);
    if (res.status == 404) text += ": " + req.path.substr(0, 200) + " (the index at / lists the endpoints)";
    res.set_content(text + "\n", "text/plain");
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content("500 internal error: " + what + "\n", "text/plain");
  });
}

void debug_server::impl::level_change(const httplib::Request& req, httplib::Response& res) {
  if (opt.token.empty()) {
    res.status = 403;
    res.set_content("the level is read-only: gidlog::debug_options::token is not set\n", "text/plain");
    return;
  }
  if (!same_secret(req.get_header_value("Authorization"), "Bearer " + opt.token)) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content("missing or wrong token: send \"Authorization: Bearer TOKEN\"\n", "text/plain");
    return;
  }
  const std::string wanted = trimmed(req.has_param("level") ? req.get_param_value("level") : req.body);
  const std::optional<level> l = parse_level(wanted);
  if (!l) {
    res.status = 400;
    res.set_content("bad level \"" + wanted.substr(0, 32) + "\": want trace, debug, info, warn, error, fatal or off\n",
                    "text/plain");
    return;
  }
  const level before = get_level();
  set_level(*l);
  GIDLOG_LOG_IF(level::warn, true, "gidlog", "debug_server: level changed from {} to {} by {}", level_name(before),
                level_name(*l), req.remote_addr);
  res.set_content(std::string(level_name(*l)) + "\n", "text/plain");
}

debug_server::debug_server(debug_options opt, source_location loc) : impl_(std::make_unique<impl>()) {
  check(opt);
  impl& s = *impl_;
  s.opt = std::move(opt);
  s.loc = loc;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(s.opt.read_timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(s.opt.read_timeout - secs);
  s.http.set_read_timeout(secs.count(), usecs.count());
  s.http.set_write_timeout(secs.count(), usecs.count());
  s.http.set_keep_alive_timeout(keep_alive_seconds);
  s.http.set_keep_alive_max_count(keep_alive_requests);
  s.http.set_payload_max_length(max_body_bytes);
  // httplib's default also sets SO_REUSEPORT, with which a second server would share a taken
  // port instead of failing to bind. Called for the listening socket only.
  int listening = -1;
  s.http.set_socket_options([&listening](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listening = sock;
  });
  const std::size_t threads = s.opt.threads;
  s.http.new_task_queue = [threads, loc, creator = gid()] { return new connection_queue(threads, loc, creator); };
  s.routes();
  errno = 0;
  const int bound = s.opt.port == 0 ? s.http.bind_to_any_port(s.opt.address)
                                    : (s.http.bind_to_port(s.opt.address, s.opt.port) ? s.opt.port : -1);
  if (bound <= 0) {
    throw std::system_error(errno != 0 ? errno : EADDRNOTAVAIL, std::generic_category(),
                            fmt::format("gidlog::debug_server: cannot listen on {}:{}", s.opt.address, s.opt.port));
  }
  s.port = static_cast<std::uint16_t>(bound);
  // httplib listens with a backlog of 5: connections beyond it that arrive together are dropped
  // by the kernel and retried by their clients a second or more later. Listening again on the
  // same socket only raises the backlog.
  if (listening >= 0) ::listen(listening, listen_backlog);
  s.listener = detail::start_named_thread("gidlog-http", loc, "gidlog::debug_server listener", [&s] {
    s.http.listen_after_bind();
    s.listener_done.store(true, std::memory_order_release);
  });
}

debug_server::~debug_server() {
  impl& s = *impl_;
  // stop() only works once the listener runs; it may not have got there yet.
  while (!s.listener_done.load(std::memory_order_acquire)) {
    if (s.http.is_running()) {
      s.http.stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  s.listener.join();
}

std::uint16_t debug_server::port() const noexcept { return impl_->port; }

std::string debug_server::url() const {
  const std::string& a = impl_->opt.address;
  const bool v6 = a.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + a + "]" : a) + ":" + std::to_string(impl_->port);
}

}  // namespace v0
}  // namespace gidlog
