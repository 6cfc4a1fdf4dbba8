// gidlog-trace follow on the logs of one real run (trace_log_gen): the answer is checked against
// what the JSON copy says with an independent parser (nlohmann/json), and text, JSON, rotated and
// gzip inputs must all give it.
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include <catch2/catch.hpp>

#include "trace_test_util.h"

using namespace trace_test;

namespace {

// What identifies a record in both forms: hop depth printed, gid, level, file, line.
using rec_key = std::tuple<int, unsigned, std::string, std::string, unsigned>;

std::multiset<rec_key> keys_of_text_output(const std::string& out) {
  static const std::regex re(R"(^(\d+) +\S+ (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) gid-(\d+) (\S+):(\d+) )");
  std::multiset<rec_key> keys;
  for (const std::string& l : lines(out)) {
    std::smatch m;
    REQUIRE(std::regex_search(l, m, re));
    keys.insert({std::stoi(m[1]), static_cast<unsigned>(std::stoul(m[3])), m[2], m[4], static_cast<unsigned>(std::stoul(m[5]))});
  }
  return keys;
}

std::multiset<rec_key> keys_of_json_output(const std::string& out) {
  std::multiset<rec_key> keys;
  for (const std::string& l : lines(out)) {
    const std::size_t sp = l.find(' ');
    REQUIRE(sp != std::string::npos);
    const auto j = nlohmann::json::parse(l.substr(l.find('{')));
    keys.insert({std::stoi(l.substr(0, sp)), j["gid"].get<unsigned>(), j["level"].get<std::string>(),
                 j["file"].get<std::string>(), j["line"].get<unsigned>()});
  }
  return keys;
}

struct expected {
  unsigned root_gid = 0;
  std::multiset<rec_key> by_field, by_gid;
};

// From the JSON copy alone: the request's records are those whose context says req=r-N (the
// runtime carries it to every job); --gid adds the accept thread's record outside the scope.
expected expected_for(const std::string& req) {
  expected e;
  const auto records = json_records();
  for (const auto& r : records)
    if (ctx_of(r, "req") == req && r["msg"].get<std::string>().rfind("accepted request", 0) == 0) e.root_gid = r["gid"];
  REQUIRE(e.root_gid != 0);
  for (const auto& r : records) {
    const unsigned gid = r["gid"];
    const bool mine = ctx_of(r, "req") == req;
    rec_key k{0, gid, r["level"], r["file"], r["line"]};  // depths are checked on the stage records
    if (mine) e.by_field.insert(k);
    if (mine || gid == e.root_gid) e.by_gid.insert(k);
  }
  return e;
}

std::multiset<rec_key> without_depth(const std::multiset<rec_key>& s) {
  std::multiset<rec_key> out;
  for (auto [d, g, l, f, n] : s) out.insert({0, g, l, f, n});
  return out;
}

}  // namespace

TEST_CASE("follow --field finds exactly one request's records across 3 pool hops and a limiter", "[trace]") {
  const expected e = expected_for("r-4");
  const result json = trace("follow --field req=r-4 " + quoted(logs + "/app.jsonl"), "field_json");
  REQUIRE(json.status == 0);
  const result text = trace("--pattern " + quoted(text_pattern) + " follow --field req=r-4 " + quoted(logs + "/app.log"), "field_text");
  REQUIRE(text.status == 0);
  const auto jk = keys_of_json_output(json.out), tk = keys_of_text_output(text.out);
  CHECK(without_depth(jk) == without_depth(e.by_field));
  CHECK(jk == tk);  // the same records with the same depths from both forms of the run
  // The stage records sit at the depth they announce: ingress 1, parse 2, store 3, db 4.
  std::set<int> depths;
  for (const std::string& l : lines(json.out)) {
    const auto j = nlohmann::json::parse(l.substr(l.find('{')));
    if (j.contains("depth")) {
      CHECK(std::stoi(l) == j["depth"].get<int>());
      depths.insert(j["depth"].get<int>());
    }
  }
  CHECK(depths == std::set<int>{1, 2, 3, 4});
}

// Catches: "0 records on the trail" and nothing else when the text log's pattern has no %C, so
// that no line can carry the context --field looks for.
TEST_CASE("follow --field on a text log whose pattern has no %C says it carries no context fields", "[trace]") {
  const std::string no_context = text_pattern.substr(0, text_pattern.rfind("%C"));
  const result text = trace("--pattern " + quoted(no_context) + " follow --field req=r-9 " + quoted(logs + "/app.log"),
                            "field_no_context");
  INFO(text.err);
  CHECK(text.status == 1);
  CHECK(text.out.empty());
  CHECK(text.err.find("the text log carries no context fields") != std::string::npos);
  CHECK(text.err.find("%C") != std::string::npos);
  // With %C in the pattern the same search finds the request.
  CHECK(trace("--pattern " + quoted(text_pattern) + " follow --field req=r-9 " + quoted(logs + "/app.log"),
              "field_with_context").err.find("carries no context") == std::string::npos);
}

TEST_CASE("follow --gid follows the accept thread through the hop records, not the context", "[trace]") {
  const expected e = expected_for("r-2");
  const std::string gid = std::to_string(e.root_gid);
  const result json = trace("follow --gid " + gid + " " + quoted(logs + "/app.jsonl"), "gid_json");
  REQUIRE(json.status == 0);
  const result text = trace("--pattern " + quoted(text_pattern) + " follow --gid " + gid + " " + quoted(logs + "/app.log"), "gid_text");
  REQUIRE(text.status == 0);
  const auto jk = keys_of_json_output(json.out);
  CHECK(without_depth(jk) == without_depth(e.by_gid));
  CHECK(jk == keys_of_text_output(text.out));
  // Nothing of another request slipped in through the shared workers.
  for (const std::string& l : lines(json.out)) {
    const auto j = nlohmann::json::parse(l.substr(l.find('{')));
    if (j.contains("ctx")) CHECK(j["ctx"]["req"] == "r-2");
  }
}

TEST_CASE("follow reads a log written with every pattern flag the same as its JSON copy", "[trace]") {
  const std::string dir = logs + "/flags";
  const std::string pattern = slurp(dir + "/pattern.txt");  // see tests/trace/CMakeLists.txt
  REQUIRE(pattern.find("%!") != std::string::npos);
  const result json = trace("follow --field req=r-5 " + quoted(dir + "/app.jsonl"), "flags_json");
  const result text = trace("--pattern " + quoted(pattern) + " follow --field req=r-5 " + quoted(dir + "/app.log"), "flags_text");
  REQUIRE(json.status == 0);
  REQUIRE(text.status == 0);
  CHECK(text.err.find("skipped") == std::string::npos);  // every line read
  // "2026-11-30 21:52:01.543317123+0000 [I] INFO main gid-7 pid-7 /path/x.cpp func x.cpp:47 %| msg"
  static const std::regex re(R"(^(\d+) +\S+ \S+ \[[TDIWEF]\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) \S+ gid-(\d+) pid-\d+ \S+ .* (\S+):(\d+) %\| )");
  std::multiset<rec_key> tk;
  for (const std::string& l : lines(text.out)) {
    std::smatch m;
    REQUIRE(std::regex_search(l, m, re));
    tk.insert({std::stoi(m[1]), static_cast<unsigned>(std::stoul(m[3])), m[2], m[4], static_cast<unsigned>(std::stoul(m[5]))});
  }
  CHECK(tk == keys_of_json_output(json.out));
  CHECK(tk.size() >= 15);  // 3 pool jobs and a limiter job: 4 records each at least
}

TEST_CASE("follow reads a rotated set oldest first, .gz parts included, and stdin", "[trace]") {
  namespace fs = std::filesystem;
  const std::string dir = logs + "/rotated";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::size_t parts = 0;
  for (const auto& f : fs::directory_iterator(logs))
    if (f.path().filename().string().rfind("rot.", 0) == 0) fs::copy_file(f.path(), dir + "/" + f.path().filename().string()), ++parts;
  REQUIRE(parts >= 3);  // the generator's 4 KiB files: several rotations
  // Compress rot.1.log (the newest rotated part) as logrotate's compress would.
  const std::string one = slurp(dir + "/rot.1.log");
  gzFile gz = gzopen((dir + "/rot.1.log.gz").c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(gzwrite(gz, one.data(), static_cast<unsigned>(one.size())) == static_cast<int>(one.size()));
  REQUIRE(gzclose(gz) == Z_OK);
  fs::remove(dir + "/rot.1.log");

  const std::string args = "--pattern " + quoted(text_pattern) + " follow --field req=r-1 ";
  const result whole = trace(args + quoted(logs + "/app.log"), "rot_whole");
  const result rotated = trace(args + quoted(dir + "/rot.log"), "rot_set");
  REQUIRE(whole.status == 0);
  REQUIRE(rotated.status == 0);
  CHECK(rotated.out == whole.out);  // same records, same order
  const result piped = run("cat " + quoted(logs + "/app.log") + " | " + quoted(tool) + " " + args + "-", "rot_stdin");
  CHECK(piped.status == 0);
  CHECK(piped.out == whole.out);
}

// The logger's own compression (rotation::compress): gz.N.log.gz parts, read oldest first.
TEST_CASE("follow reads a set the logger rotated and gzipped itself", "[trace]") {
  namespace fs = std::filesystem;
  std::size_t gz = 0, plain = 0;
  for (const auto& f : fs::directory_iterator(logs)) {
    const std::string name = f.path().filename().string();
    if (name.rfind("gz.", 0) != 0 || name == "gz.log") continue;
    gz += name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
    plain += !(name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0);
  }
  CHECK(gz >= 3);
  CHECK(plain == 0);  // stop() waited for every compression; no .tmp left
  const std::string args = "--pattern " + quoted(text_pattern) + " follow --field req=r-2 ";
  const result whole = trace(args + quoted(logs + "/app.log"), "gz_whole");
  const result set = trace(args + quoted(logs + "/gz.log"), "gz_set");
  REQUIRE(whole.status == 0);
  REQUIRE(set.status == 0);
  CHECK_FALSE(whole.out.empty());
  CHECK(set.out == whole.out);
  CHECK(set.err.find("skipped") == std::string::npos);
}

TEST_CASE("follow --level and --from/--to filter what is printed, not what is followed", "[trace]") {
  const result all = trace("follow --field req=r-3 " + quoted(logs + "/app.jsonl"), "filter_all");
  const result info = trace("follow --field req=r-3 --level info " + quoted(logs + "/app.jsonl"), "filter_info");
  REQUIRE(all.status == 0);
  REQUIRE(info.status == 0);
  std::size_t info_or_more = 0;
  for (const std::string& l : lines(all.out)) {
    const auto j = nlohmann::json::parse(l.substr(l.find('{')));
    info_or_more += j["level"] != "TRACE" && j["level"] != "DEBUG";
  }
  CHECK(lines(info.out).size() == info_or_more);
  // A window that starts after the last record: nothing matches, exit status 1.
  const result none = trace("follow --field req=r-3 --from 2200-01-01T00:00:00Z " + quoted(logs + "/app.jsonl"), "filter_none");
  CHECK(none.status == 1);
  CHECK(none.out.empty());
  const result unknown = trace("follow --field req=r-999 " + quoted(logs + "/app.jsonl"), "filter_unknown");
  CHECK(unknown.status == 1);
}
