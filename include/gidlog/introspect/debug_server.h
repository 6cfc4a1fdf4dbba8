#pragma once
// gidlog::debug_server: an HTTP endpoint for looking inside a running service, the counterpart of
// Go's net/http/pprof. Off unless constructed; binds loopback unless told otherwise.
//
//   gidlog::debug_server srv({.address = "127.0.0.1", .port = 6060, .token = "s3cret"});
//   // curl http://127.0.0.1:6060/debug/gidlog/threads?debug=1
//
// Endpoints (GET unless said otherwise; text/plain unless said otherwise):
//   /                            index page (HTML) linking the others
//   /debug/gidlog/threads        threads::profile(debug); ?debug=1 (default) or ?debug=2
//   /debug/gidlog/tasks          tasks::profile(debug);   ?debug=1 (default) or ?debug=2
//   /debug/gidlog/stats          JSON: queue depth, records/s, counters, backend lag, every sink's
//                                backlog, lost lines and failures
//   /debug/gidlog/level          the run-time level ("info"). PUT or POST with the new level as
//                                the body (or ?level=debug) changes it, only when options.token
//                                is set and the request carries "Authorization: Bearer TOKEN"
//                                (401 without it or with a wrong one; 403 when no token is set)
// Anything else: 404. A bad debug= value or level: 400. A request line or header line longer than
// 8 KiB: 414 / 400. A body larger than 4 KiB: 413.
//
// Robustness: connections are served by `threads` threads; a client that sends nothing for
// `read_timeout` is cut off (a slowloris), an idle keep-alive connection after one second, and
// under a flood of connections the newest are served first, so a real request is not stuck
// behind hundreds of idle ones. The HTTP library is cpp-httplib (Debian libcpp-httplib-dev 0.11):
// it waits with select(), so a connection whose descriptor is 1024 or more is answered 500.
//
// Under ThreadSanitizer: Debian's cpp-httplib is a compiled library, not instrumented, and TSan
// reports its function-local statics as races between connection threads; suppress them with
// "called_from_lib:libcpp-httplib.so" (tests/integration/introspect_server.cpp does).
//
// The threads it starts are named "gidlog-http" and show up in threads::profile(2) as created by
// the thread that constructed the server, at the construction site.
//
// Threading: construct and destroy on any thread; the destructor stops the server and joins its
// threads, waiting for requests in progress (at most about read_timeout + a profile).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <gidlog/runtime/source_location.h>

namespace gidlog {
inline namespace v0 {

struct debug_options {
  // Address to bind: an IPv4 or IPv6 literal or a host name. Anything but loopback exposes the
  // process's stacks to the network: put it behind a firewall or keep the default.
  std::string address = "127.0.0.1";
  // TCP port; 0 takes any free port (debug_server::port() says which).
  std::uint16_t port = 0;
  // Shared secret for changing the level over HTTP. Empty (the default): the level is read-only.
  std::string token{};
  // Threads serving connections; 1 to 64.
  std::size_t threads = 4;
  // A client that sends nothing for this long while a request is due is cut off; also the most
  // time a response may take to write. 10 ms to 60 s.
  std::chrono::milliseconds read_timeout{2000};
};

class debug_server {
 public:
  // Validates `opt` (std::invalid_argument naming the field), binds and starts serving. Throws
  // std::system_error when the address cannot be bound, std::runtime_error when gidlog was built
  // without the debug server (CMake -DGIDLOG_DEBUG_SERVER=OFF).
  explicit debug_server(debug_options opt = {}, source_location loc = source_location::current());
  ~debug_server();
  debug_server(const debug_server&) = delete;
  debug_server& operator=(const debug_server&) = delete;

  // The bound port (the chosen one when options.port was 0).
  std::uint16_t port() const noexcept;
  // "http://127.0.0.1:PORT" (IPv6 addresses in brackets).
  std::string url() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace v0
}  // namespace gidlog
