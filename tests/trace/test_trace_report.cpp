// gidlog-trace summary and timeline on the logs of one real run (trace_log_gen): percentiles
// recomputed here from the records, the Trace Event JSON checked for what viewers rely on, and
// the HTML page drawn by a real headless browser (Debian chromium).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "trace_test_util.h"

using namespace trace_test;

namespace {

std::int64_t nearest_rank(std::vector<std::int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

void check_summary(const nlohmann::json& s) {
  // Wait and run times per owner, straight from the hop records' named fields.
  std::map<std::string, std::vector<std::int64_t>> waits, runs;
  std::map<unsigned, std::size_t> per_gid;
  for (const auto& r : json_records()) {
    ++per_gid[r["gid"].get<unsigned>()];
    if (!r.contains("owner") || !r.contains("job")) continue;
    if (r.contains("wait_us")) waits[r["owner"]].push_back(r["wait_us"].get<std::int64_t>());
    if (r.contains("run_us")) runs[r["owner"]].push_back(r["run_us"].get<std::int64_t>());
  }
  REQUIRE(waits.size() == 4);  // ingress, parse, store, db
  std::size_t seen = 0;
  for (const char* group : {"pools", "limiters"}) {
    for (const auto& o : s[group]) {
      const std::string name = o["name"];
      INFO(name);
      REQUIRE(waits.count(name) == 1);
      CHECK(o["jobs"] == waits[name].size());
      CHECK(o["wait_us"]["p50"] == nearest_rank(waits[name], 50));
      CHECK(o["wait_us"]["p99"] == nearest_rank(waits[name], 99));
      CHECK(o["wait_us"]["max"] == *std::max_element(waits[name].begin(), waits[name].end()));
      CHECK(o["run_us"]["p50"] == nearest_rank(runs[name], 50));
      CHECK(o["run_us"]["p99"] == nearest_rank(runs[name], 99));
      CHECK(o["run_us"]["max"] == *std::max_element(runs[name].begin(), runs[name].end()));
      ++seen;
    }
  }
  CHECK(seen == 4);
  CHECK(s["limiters"].size() == 1);
  CHECK(s["limiters"][0]["name"] == "limiter \"db\"");
  // The slow db query made the store pool warn (its job, and those queued behind it on the limiter).
  std::size_t slow = 0;
  for (const auto& r : json_records()) slow += r["level"] == "WARN" && r["msg"].get<std::string>().find(": slow job ") != std::string::npos;
  CHECK(slow >= 1);
  for (const auto& o : s["pools"])
    CHECK(o["slow_warnings"] == (o["name"] == "pool \"store\"" ? slow : 0));
  REQUIRE(s["gids"].size() == per_gid.size());
  for (const auto& g : s["gids"]) {
    std::size_t n = 0;
    for (const auto& [lvl, count] : g["levels"].items()) n += count.get<std::size_t>();
    CHECK(n == per_gid[g["gid"].get<unsigned>()]);
  }
}

}  // namespace

TEST_CASE("summary percentiles match the records, from the JSON and the text form", "[trace]") {
  const result json = trace("summary --json " + quoted(logs + "/app.jsonl"), "summary_json");
  REQUIRE(json.status == 0);
  check_summary(nlohmann::json::parse(json.out));
  const result text = trace("--pattern " + quoted(text_pattern) + " summary --json " + quoted(logs + "/app.log"), "summary_text");
  REQUIRE(text.status == 0);
  const auto t = nlohmann::json::parse(text.out), j = nlohmann::json::parse(json.out);
  CHECK(t["pools"] == j["pools"]);
  CHECK(t["limiters"] == j["limiters"]);
  const result table = trace("summary " + quoted(logs + "/app.jsonl"), "summary_table");
  CHECK(table.status == 0);
  CHECK(table.out.find("limiter \"db\"") != std::string::npos);
}

TEST_CASE("timeline writes Trace Event JSON: lanes, complete slices, paired flows, warnings", "[trace]") {
  const std::string out = logs + "/trace.json";
  const result r = trace("timeline --out " + quoted(out) + " " + quoted(logs + "/app.jsonl"), "timeline");
  REQUIRE(r.status == 0);
  const auto t = nlohmann::json::parse(slurp(out));
  REQUIRE(t["traceEvents"].is_array());
  std::set<unsigned> named, used, log_gids;
  std::map<std::uint64_t, int> flow_s, flow_f;
  std::size_t slices = 0, instants = 0, begins = 0, ends = 0;
  for (const auto& e : t["traceEvents"]) {
    const std::string ph = e["ph"];
    REQUIRE(e.contains("pid"));
    if (ph == "M" && e["name"] == "thread_name") named.insert(e["tid"].get<unsigned>());
    if (ph != "M") used.insert(e["tid"].get<unsigned>());
    if (ph == "X") {
      ++slices;
      CHECK(e["dur"].get<double>() >= 0);
      CHECK(e["args"].contains("job"));
      CHECK(e["args"]["ctx"].contains("req"));
    }
    begins += ph == "B";
    ends += ph == "E";
    if (ph == "s") ++flow_s[e["id"].get<std::uint64_t>()];
    if (ph == "f") {
      ++flow_f[e["id"].get<std::uint64_t>()];
      CHECK(e["bp"] == "e");
    }
    instants += ph == "i";
  }
  std::size_t starts = 0, warns = 0;
  for (const auto& rec : json_records()) {
    log_gids.insert(rec["gid"].get<unsigned>());
    starts += rec.contains("executor") && rec.contains("wait_us");
    warns += rec["level"] == "WARN" || rec["level"] == "ERROR" || rec["level"] == "FATAL";
  }
  CHECK(begins == ends);
  CHECK(slices == starts);  // 6 requests x (3 pool jobs + 1 limiter job)
  CHECK(slices == 24);
  CHECK(named == log_gids);  // one lane per gid of the log
  for (unsigned g : used) CHECK(named.count(g) == 1);
  CHECK(flow_s.size() == slices);
  CHECK(flow_s == flow_f);  // every arrow has both ends, each once
  for (const auto& [id, n] : flow_s) CHECK(n == 1);
  CHECK(instants == warns);
}

TEST_CASE("the timeline page shows one lane per gid and the slices in headless chromium", "[trace]") {
  const std::string page = logs + "/timeline.html";
  const result r = trace("timeline --html " + quoted(page) + " " + quoted(logs + "/app.jsonl"), "timeline_html");
  REQUIRE(r.status == 0);
  const std::string html = slurp(page);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // no fetch from a network
  CHECK(html.find("https://") == std::string::npos);
  const char* found = nullptr;
  for (const char* b : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::system((std::string("test -x ") + b).c_str()) == 0) found = b;
  if (found == nullptr)
    FAIL("chromium is not installed: apt-get install chromium (./dev.sh test installs it); the page cannot be checked");
  // As root chromium needs --no-sandbox; a private profile keeps runs apart.
  const std::string profile = logs + "/chromium-profile";
  const result dom = run(std::string(found) + " --headless --no-sandbox --disable-gpu --user-data-dir=" + quoted(profile) +
                             " --virtual-time-budget=2000 --dump-dom " + quoted("file://" + page),
                         "chromium_dom");
  REQUIRE(dom.status == 0);
  std::set<std::string> lane_gids;
  const std::regex lane_re(R"re(<g class="lane" data-gid="(\d+)")re");
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), lane_re); it != std::sregex_iterator(); ++it)
    lane_gids.insert((*it)[1]);
  std::set<std::string> log_gids;
  for (const auto& rec : json_records()) log_gids.insert(std::to_string(rec["gid"].get<unsigned>()));
  CHECK(lane_gids == log_gids);
  std::size_t slices = 0;
  for (std::size_t at = dom.out.find("<rect class=\"slice"); at != std::string::npos; at = dom.out.find("<rect class=\"slice", at + 1)) ++slices;
  CHECK(slices == 24);
  CHECK(dom.out.find("data-slices=\"24\"") != std::string::npos);
  // The first slice is shown selected at load: its records are in the panel.
  CHECK(dom.out.find("started on gid-") != std::string::npos);
}
