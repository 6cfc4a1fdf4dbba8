// Two processes of one request, for gidlog-trace's cross-process test: a client that calls a server
// over loopback HTTP with a W3C traceparent header, both logging with gidlog.
//   trace_http_peer server DIR [JOURNAL_SOCKET]
//                                listens on 127.0.0.1 (a free port, printed as "port N\n" on
//                                stdout once it accepts), logs to DIR/server.jsonl (json_sink) and
//                                DIR/server.log (text, pattern SERVER_PATTERN below), and with
//                                JOURNAL_SOCKET also to that journald (journald_sink, identifier
//                                "trace-peer"); GET /orders/ID
//                                handles a request in a child span of the caller's, with a job on a
//                                worker_pool; POST /quit stops it
//   trace_http_peer client DIR PORT N
//                                N requests, each a new trace: the call runs in a worker_pool job
//                                (a child span of the request's) and carries that span as the
//                                traceparent; logs to DIR/client.jsonl and DIR/client.log (text,
//                                the server's pattern); prints "trace ID\n" per request, then
//                                asks the server to quit
#include <cstdio>
#include <cstdlib>
#include <string>

#include <httplib.h>

#include <gidlog/sinks/json.h>
#include <gidlog/gidlog.h>
#include <gidlog/sinks/file.h>
#include <gidlog/sinks/journald.h>
#include <gidlog/runtime.h>
#include <gidlog/trace_context.h>

namespace {

// %z: the text log's times carry their offset, so they merge with the JSON logs' UTC times.
constexpr const char* server_pattern = "%Y-%m-%dT%H:%M:%S.%f%z %l gid-%t %s:%# %v%C";

int server(const std::string& dir, const char* journal_socket) {
  gidlog::options opt;
  opt.pattern = server_pattern;
  opt.level = gidlog::level::trace;
  opt.sinks = {gidlog::json_sink(dir + "/server.jsonl", {.file = {.truncate = true}}),
               gidlog::file_sink(dir + "/server.log", {.truncate = true})};
  if (journal_socket != nullptr)
    opt.sinks.push_back(gidlog::journald_sink({.socket_path = journal_socket, .syslog_identifier = "trace-peer"}));
  gidlog::start(opt);
  gidlog::set_runtime_log_level(gidlog::level::trace);
  int status = 0;
  {
    gidlog::worker_pool db({.name = "db", .threads = 1});
    httplib::Server svr;
    svr.Get(R"(/orders/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
      // Our span is a child of the caller's; a request without a valid header starts a trace.
      const auto incoming = gidlog::trace_context::parse(req.get_header_value("traceparent"));
      gidlog::context_scope span{incoming ? incoming->child() : gidlog::trace_context::make_root()};
      const std::string id = req.matches[1];
      LOG_INFO("GET /orders/{order} received", id);
      const int price = db.submit([&] {
                            LOG_INFO("SELECT price FROM orders WHERE id = {order}", id);
                            return 7 * std::atoi(id.c_str());
                          })
                            .get();
      LOG_INFO("replying {price}", price);
      res.set_header("traceparent", gidlog::trace_context::current().traceparent());
      res.set_content(std::to_string(price), "text/plain");
    });
    svr.Post("/quit", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content("bye", "text/plain");
      svr.stop();
    });
    const int port = svr.bind_to_any_port("127.0.0.1");
    if (port <= 0) {
      std::fprintf(stderr, "trace_http_peer server: cannot bind a loopback port\n");
      status = 1;
    } else {
      LOG_INFO("listening on {port}", port);
      std::printf("port %d\n", port);  // bound and listening: connections queue until accepted
      std::fflush(stdout);
      if (!svr.listen_after_bind()) status = 1;
    }
  }
  gidlog::stop();
  return status;
}

int client(const std::string& dir, int port, int n) {
  gidlog::options opt;
  opt.pattern = server_pattern;  // one --pattern reads both text logs
  opt.level = gidlog::level::trace;
  opt.sinks = {gidlog::json_sink(dir + "/client.jsonl", {.file = {.truncate = true}}),
               gidlog::file_sink(dir + "/client.log", {.truncate = true})};
  gidlog::start(opt);
  gidlog::set_runtime_log_level(gidlog::level::trace);
  int status = 0;
  {
    gidlog::worker_pool outbound({.name = "outbound", .threads = 1});
    httplib::Client cli("127.0.0.1", port);
    for (int i = 0; i < n; ++i) {
      const gidlog::trace_context root = gidlog::trace_context::make_root();
      gidlog::context_scope span{root};
      gidlog::context_scope req{{"req", "r-" + std::to_string(i)}};
      LOG_INFO("request {i} for order {order}", i, 10 + i);
      const bool ok = outbound.submit([&] {
                                 // This job's span is the server's parent.
                                 const std::string tp = gidlog::trace_context::current().traceparent();
                                 LOG_INFO("calling GET /orders/{order} with traceparent {tp}", 10 + i, tp);
                                 auto res = cli.Get(("/orders/" + std::to_string(10 + i)).c_str(), {{"traceparent", tp}});
                                 if (!res || res->status != 200) {
                                   LOG_ERROR("the server did not answer");
                                   return false;
                                 }
                                 LOG_INFO("server answered {status} {body}", res->status, res->body);
                                 return true;
                               })
                          .get();
      if (!ok) status = 1;
      LOG_INFO("request {i} done", i);
      std::printf("trace %s\n", root.trace_id().c_str());
    }
    auto bye = cli.Post("/quit", "", "text/plain");
    if (!bye || bye->status != 200) status = 1;
  }
  gidlog::stop();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "server" && (argc == 3 || argc == 4)) return server(argv[2], argc == 4 ? argv[3] : nullptr);
  if (mode == "client" && argc == 5) return client(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  std::fprintf(stderr, "usage: trace_http_peer server DIR [JOURNAL_SOCKET] | client DIR PORT N\n");
  return 2;
}
