// The syslog sink against a real rsyslogd (tests/support/rsyslog_daemon.h): every transport
// (unix datagram socket, UDP, TCP) in both formats (RFC 5424, RFC 3164) at once, six sinks, each
// with its own APP-NAME and facility. Every record must arrive once, in order, with its severity,
// facility, process id, hostname, message (newlines kept in one message), the gid, file and line,
// the context and the named fields as rsyslog parsed them; a message too long for UDP arrives cut,
// with the marker, and is counted.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "rsyslog_daemon.h"

namespace {

using namespace std::chrono_literals;
using gidlog::level;

struct logged {
  int severity;
  std::string msg;  // as rsyslog writes it (#012 for a newline)
  int line;
  std::vector<std::string> context;  // SD-PARAMs as they must appear in [gidlog@32473 ...]
  std::string fields;                // the [fields@32473 ...] element, or "" for none
  std::string logfmt;                // the context as RFC 3164 appends it
};

const std::string long_text(3000, 'L');

// Logs the records every sink must deliver, from this thread, and says what they are.
std::vector<logged> log_records() {
  std::vector<logged> out;
  int l;
  gidlog::context_scope scope{{"req", "r-42"}, {"user_id", 7}};
  const std::vector<std::string> ctx{R"(req="r-42")", R"(user_id="7")"};
  const std::string ctx3164 = " req=r-42 user_id=7";
  // clang-format off
  l = __LINE__; LOG_TRACE("trace {n}", 1);
  out.push_back({7, "trace 1", l, ctx, R"([fields@32473 n="1"])", ctx3164});
  l = __LINE__; LOG_DEBUG("debug {flag}", true);
  out.push_back({7, "debug true", l, ctx, R"([fields@32473 flag="true"])", ctx3164});
  l = __LINE__; LOG_INFO("login {user} from {ip} took {ms:.1f} ms", "alice", "10.0.0.1", 3.5);
  out.push_back({6, "login alice from 10.0.0.1 took 3.5 ms", l, ctx,
                 R"([fields@32473 user="alice" ip="10.0.0.1" ms="3.5"])", ctx3164});
  {
    gidlog::context_scope inner{{"req", "r-43"}, {"q", "say \"hi\" [x]"}};
    l = __LINE__; LOG_WARN("disk {}% full", 93);
    out.push_back({4, "disk 93% full", l, {R"(req="r-43")", R"(user_id="7")", R"(q="say \"hi\" [x\]")"},
                   R"([fields@32473 arg0="93"])", R"( req=r-43 user_id=7 q="say \"hi\" [x]")"});
  }
  l = __LINE__; LOG_ERROR("two\nlines");
  out.push_back({3, "two#012lines", l, ctx, "", ctx3164});
  l = __LINE__; LOG_INFO("long {}", long_text);
  out.push_back({6, "long " + long_text, l, ctx, R"([fields@32473 arg0="LLL)", ctx3164});
  // clang-format on
  return out;
}

struct sink_case {
  std::string transport;  // unix, udp, tcp
  gidlog::syslog_format format;
  int facility;
  std::string app;
  gidlog::sink_ptr sink;
};

std::string trim_one_space(const std::string& s) { return s.starts_with(' ') ? s.substr(1) : s; }

}  // namespace

TEST_CASE("syslog sink: unix, UDP and TCP, RFC 5424 and RFC 3164, into a real rsyslog", "[syslog]") {
  gidlog_test::rsyslog_daemon d;
  const std::string addresses[] = {"unix:" + d.unix_socket(), fmt::format("udp://127.0.0.1:{}", d.udp_port()),
                                   fmt::format("tcp://127.0.0.1:{}", d.tcp_port())};
  const char* transports[] = {"unix", "udp", "tcp"};
  std::vector<sink_case> cases;
  gidlog::options opt;
  for (int t = 0; t < 3; ++t) {
    for (auto f : {gidlog::syslog_format::rfc5424, gidlog::syslog_format::rfc3164}) {
      sink_case c{transports[t], f, 16 + static_cast<int>(cases.size()),  // local0..local5
                  fmt::format("gl-{}-{}", transports[t], f == gidlog::syslog_format::rfc5424 ? 5424 : 3164), {}};
      c.sink = gidlog::syslog_sink(
          {.address = addresses[t], .format = f, .app_name = c.app, .facility = c.facility, .hostname = "gidlog-host"});
      opt.sinks.push_back(c.sink);
      cases.push_back(std::move(c));
    }
  }
  std::mutex mu;
  std::vector<std::string> errors;
  opt.level = level::trace;
  opt.error_handler = [&](std::string_view e) {
    std::lock_guard<std::mutex> lock(mu);
    errors.emplace_back(e);
  };
  gidlog::start(opt);
  const std::vector<logged> want = log_records();
  const std::string gid = std::to_string(gidlog::gid());
  gidlog::flush();
  const auto recs = d.wait_for(want.size() * cases.size(), 10s);
  gidlog::stop();
  INFO("rsyslogd said: " << d.output());
  CHECK(recs.size() == want.size() * cases.size());
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(errors.empty());
  }

  for (const sink_case& c : cases) {
    INFO("sink " << c.app);
    const bool rfc5424 = c.format == gidlog::syslog_format::rfc5424;
    std::vector<gidlog_test::rsyslog_record> got;
    for (const auto& r : recs)
      if (r.app == c.app) got.push_back(r);
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      const logged& w = want[i];
      const auto& r = got[i];
      INFO("record " << i << ": " << r.sd << " " << r.msg);
      CHECK(r.severity == w.severity);
      CHECK(r.facility == c.facility);
      CHECK(r.pri == c.facility * 8 + w.severity);
      CHECK(r.procid == std::to_string(::getpid()));
      if (rfc5424 || c.transport != "unix") CHECK(r.host == "gidlog-host");  // RFC 3164 over unix: rsyslog's own
      const bool cut = c.transport == "udp" && w.msg.size() > 2048;
      if (rfc5424) {
        CHECK(r.msgid == "-");
        CHECK(r.sd.starts_with(fmt::format(R"([gidlog@32473 gid="{}" file="sinks_syslog.cpp" line="{}" func=")",
                                           gid, w.line)));
        CHECK(r.sd.find(R"(" logger="main" )") != std::string::npos);
        for (const std::string& p : w.context) CHECK(r.sd.find(" " + p) != std::string::npos);
        if (w.fields.empty()) CHECK(r.sd.find("[fields@") == std::string::npos);
        else CHECK(r.sd.find(w.fields) != std::string::npos);
        if (cut) {
          CHECK(r.msg.starts_with("long LLL"));
          CHECK(r.msg.find("...[truncated ") != std::string::npos);
        } else {
          CHECK(r.msg == w.msg);
        }
      } else {
        CHECK(r.sd == "-");
        const std::string body = fmt::format("[gid-{}:sinks_syslog.cpp:{}] {}{}", gid, w.line, w.msg, w.logfmt);
        if (cut) {
          CHECK(trim_one_space(r.msg).starts_with(body.substr(0, 100)));
          CHECK(r.msg.find("...[truncated ") != std::string::npos);
        } else {
          CHECK(trim_one_space(r.msg) == body);
        }
      }
    }
    const auto n = gidlog::get_syslog_counters(c.sink);
    CHECK(n.sent == want.size());
    CHECK(n.truncated == (c.transport == "udp" ? 1u : 0u));
    CHECK(n.connects == 1);
    CHECK(n.disconnects == 0);
  }
}
