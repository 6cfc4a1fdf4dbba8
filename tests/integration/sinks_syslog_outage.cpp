// rsyslogd killed (SIGKILL) mid-run and started again on the same port and socket: the records
// logged while it was down wait in the backend's backlog (the sink throws, the writer keeps and
// retries them) and arrive after it is back, over TCP and over the unix datagram socket, each once
// and in order, between the records logged before the kill and after the restart.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "rsyslog_daemon.h"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int before = 20, during = 50, after = 20;

std::vector<std::string> messages_of(const std::vector<gidlog_test::rsyslog_record>& recs, const std::string& app) {
  std::vector<std::string> out;
  for (const auto& r : recs)
    if (r.app == app) out.push_back(r.msg);
  return out;
}

long ms_since(clock_type::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count());
}

}  // namespace

TEST_CASE("syslog sink: rsyslog killed mid-run, records logged during the outage arrive after its restart",
          "[syslog]") {
  gidlog_test::rsyslog_daemon d;
  const std::vector<std::string> apps{"gl-tcp", "gl-unix"};
  const gidlog::sink_ptr tcp = gidlog::syslog_sink({.address = fmt::format("tcp://127.0.0.1:{}", d.tcp_port()),
                                                    .app_name = apps[0],
                                                    .reconnect_min = 10ms,
                                                    .reconnect_max = 100ms});
  const gidlog::sink_ptr unix_dgram = gidlog::syslog_sink(
      {.address = "unix:" + d.unix_socket(), .app_name = apps[1], .reconnect_min = 10ms, .reconnect_max = 100ms});
  std::mutex mu;
  std::vector<std::string> errors;
  gidlog::options opt;
  opt.sinks = {tcp, unix_dgram};
  opt.error_handler = [&](std::string_view e) {
    std::lock_guard<std::mutex> lock(mu);
    errors.emplace_back(e);
  };
  gidlog::start(opt);
  gidlog::context_scope scope{{"req", "outage"}};

  for (int i = 0; i < before; ++i) LOG_INFO("before {i}", i);
  gidlog::flush();
  auto recs = d.wait_for(2 * before, 10s);
  REQUIRE(recs.size() == 2 * before);  // all in rsyslog's file: nothing in flight when it dies

  d.kill();
  const auto down = clock_type::now();
  for (int i = 0; i < during; ++i) {  // over ~250 ms: the backend fails, backs off, retries
    LOG_INFO("during {i}", i);
    if (i % 10 == 9) gidlog::flush();
    std::this_thread::sleep_for(5ms);
  }
  gidlog::flush();
  const auto errors_in_outage = gidlog::get_counters().sink_errors;
  CHECK(errors_in_outage > 0);
  const long outage_ms = ms_since(down);
  CHECK(d.records().size() == 2 * before);  // nothing can have arrived

  d.restart();
  const auto up = clock_type::now();
  for (int i = 0; i < after; ++i) LOG_INFO("after {i}", i);
  gidlog::flush();
  const std::size_t total = 2 * (before + during + after);
  recs = d.wait_for(total, 10s);
  const long catch_up_ms = ms_since(up);
  gidlog::stop();
  INFO("rsyslogd said: " << d.output());

  std::vector<std::string> want;
  for (int i = 0; i < before; ++i) want.push_back(fmt::format("before {}", i));
  for (int i = 0; i < during; ++i) want.push_back(fmt::format("during {}", i));
  for (int i = 0; i < after; ++i) want.push_back(fmt::format("after {}", i));
  for (const std::string& app : apps) {
    INFO("sink " << app);
    CHECK(messages_of(recs, app) == want);  // each once, in order: no loss, no duplicate
  }
  for (const auto& r : recs) CHECK(r.sd.find(R"( req="outage"])") != std::string::npos);

  const auto t = gidlog::get_syslog_counters(tcp), u = gidlog::get_syslog_counters(unix_dgram);
  CHECK(t.sent == static_cast<std::uint64_t>(before + during + after));
  CHECK(u.sent == static_cast<std::uint64_t>(before + during + after));
  CHECK(t.disconnects >= 1);
  CHECK(t.connects >= 2);
  CHECK(u.connects >= 2);
  CHECK(gidlog::get_counters().sink_dropped == 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    bool reported = false, recovered = false;
    for (const std::string& e : errors) {
      reported = reported || e.find("failed") != std::string::npos;
      recovered = recovered || e.find("recovered") != std::string::npos;
    }
    CHECK(reported);
    CHECK(recovered);
  }
  std::printf("syslog outage: rsyslogd down %ld ms, %d records per sink logged meanwhile (%llu sink errors), all "
              "%zu records in rsyslog's file %ld ms after its restart (tcp: %llu connects; unix: %llu connects)\n",
              outage_ms, during, static_cast<unsigned long long>(errors_in_outage), recs.size(), catch_up_ms,
              static_cast<unsigned long long>(t.connects), static_cast<unsigned long long>(u.connects));
}
