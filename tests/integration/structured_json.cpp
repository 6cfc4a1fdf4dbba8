// The context of a request, through three pool hops and a limiter, as a JSON-lines file shows
// it: every line parsed back with nlohmann/json, the context under "ctx" on every record of the
// request (the jobs' own records and the pool's hop records), the named fields with their types.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gidlog/gidlog.h>

TEST_CASE("JSON lines: the request's context on every record across three pool hops and a limiter") {
  const std::string path = "/tmp/gidlog_structured_json_" + std::to_string(::getpid()) + ".jsonl";
  gidlog::options opt;
  opt.sinks = {gidlog::json_sink(path, {.file = {.truncate = true}})};
  opt.level = gidlog::level::trace;
  gidlog::start(opt);
  gidlog::set_runtime_log_level(gidlog::level::trace);
  {
    gidlog::worker_pool a("json-a", 1), b("json-b", 1), c("json-c", 1);
    gidlog::limiter lim("json-lim", 1);
    gidlog::context_scope s{{"req", "r-42"}, {"attempt", 2}};
    LOG_INFO("accepted {user} after {ms:.1f} ms, admin {admin}", "alice", 1.25, false);
    a.submit([&] {
       LOG_INFO("hop {n}", 1);
       b.submit([&] {
          LOG_INFO("hop {n}", 2);
          c.submit([&] {
             LOG_INFO("hop {n}", 3);
             lim.go([] { LOG_INFO("hop {n}", 4); });
             lim.wait();
           }).get();
        }).get();
     }).get();
  }
  gidlog::set_runtime_log_level(gidlog::level::info);
  gidlog::stop();

  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(in, line)) {
    INFO(line);
    records.push_back(nlohmann::json::parse(line));  // throws (fails the test) on a bad line
  }
  ::unlink(path.c_str());
  std::map<long long, std::uint32_t> hop_gid;
  int hop_records = 0;
  bool saw_accepted = false;
  for (const auto& r : records) {
    const std::string msg = r.at("msg");
    // The request's records: its own, and the hop records of its jobs (not the pools' start/close).
    const bool ours = (msg.find("\"json-") != std::string::npos && msg.find(": job ") != std::string::npos) ||
                      msg.rfind("hop ", 0) == 0 || msg.rfind("accepted", 0) == 0;
    if (!ours) continue;
    if (msg.find(" started on gid-") != std::string::npos || msg.find(" finished on gid-") != std::string::npos ||
        msg.find(" submitted by gid-") != std::string::npos) {
      ++hop_records;
      CHECK(r.at("job").is_number_unsigned());
      CHECK(r.contains("submitter"));
    }
    INFO(r.dump());
    REQUIRE(r.contains("ctx"));
    CHECK(r["ctx"]["req"] == "r-42");
    CHECK(r["ctx"]["attempt"] == 2);
    CHECK(r["ctx"]["attempt"].is_number_integer());
    if (msg.rfind("hop ", 0) == 0) {
      CHECK(r.at("n").is_number_integer());
      hop_gid[r.at("n").get<long long>()] = r.at("gid").get<std::uint32_t>();
      CHECK(r.at("tmpl") == "hop {n}");
    }
    if (msg.rfind("accepted", 0) == 0) {
      saw_accepted = true;
      CHECK(msg == "accepted alice after 1.2 ms, admin false");
      CHECK(r.at("user") == "alice");
      CHECK(r.at("ms").get<double>() == 1.25);
      CHECK(r.at("admin").is_boolean());
    }
  }
  CHECK(saw_accepted);
  REQUIRE(hop_gid.size() == 4);
  CHECK(hop_gid[1] != hop_gid[2]);
  CHECK(hop_gid[2] != hop_gid[3]);
  CHECK(hop_gid[3] != hop_gid[4]);
  CHECK(hop_records == 11);  // submitted/started/finished for 3 pool jobs, started/finished for the limiter's
}
