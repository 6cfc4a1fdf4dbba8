// Bad input for gidlog-trace, built from a real log (trace_log_gen) by damaging copies of it: every
// bad line is reported with its number and skipped, the good ones are still found, nothing
// crashes, and the exit status says whether anything matched.
#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "trace_test_util.h"

using namespace trace_test;

namespace {

void write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& l : v) s += l + "\n";
  return s;
}

std::size_t count_lines_with(const std::string& out, const std::string& what) {
  std::size_t n = 0;
  for (const std::string& l : lines(out)) n += l.find(what) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("bad lines are reported with their number and skipped, good ones still match", "[trace_input]") {
  for (const bool json : {true, false}) {
    INFO((json ? "JSON lines" : "text lines"));
    const std::string src = logs + (json ? "/app.jsonl" : "/app.log");
    std::vector<std::string> good = lines(slurp(src));
    REQUIRE(good.size() > 50);
    std::vector<std::string> bad = good;
    // Line numbers below are 1-based positions in `bad`, counted as they are inserted.
    bad.insert(bad.begin() + 4, "127.0.0.1 - - [30/Nov/2026:19:28:18 +0000] \"GET / HTTP/1.1\" 200 512");  // line 5
    std::string garbage(300, '\0');
    std::mt19937 rng(42);
    for (char& c : garbage) c = static_cast<char>(rng());
    for (char& c : garbage) c = c == '\n' ? 'x' : c;  // one line of binary garbage
    bad.insert(bad.begin() + 9, garbage);  // line 10
    bad.insert(bad.begin() + 19, std::string(10 << 20, json ? '{' : 'x'));  // line 20: 10 MB
    std::string body = joined(bad);
    // Truncated last line: the start of a real line, no newline.
    body += good[good.size() / 2].substr(0, good[good.size() / 2].size() / 2);
    const std::string path = logs + (json ? "/bad.jsonl" : "/bad.log");
    write(path, body);

    const std::string pattern = json ? "" : "--pattern " + quoted(text_pattern) + " ";
    const result ok = trace(pattern + "follow --field req=r-6 " + quoted(src), json ? "bad_ref_j" : "bad_ref_t");
    const result r = trace(pattern + "--max-errors 100 follow --field req=r-6 " + quoted(path), json ? "bad_j" : "bad_t");
    REQUIRE(r.status == 0);
    CHECK(r.out == ok.out);  // nothing good was lost
    CHECK(r.err.find(path + ":5: ") != std::string::npos);
    CHECK(r.err.find(path + ":10: ") != std::string::npos);
    CHECK(r.err.find(path + ":20: line longer than --max-line bytes") != std::string::npos);
    CHECK(r.err.find(path + ":" + std::to_string(bad.size() + 1) + ": last line has no newline (truncated)") != std::string::npos);
    CHECK(count_lines_with(r.err, ", skipped") == 4);
  }
}

TEST_CASE("empty, missing and wholly bad inputs: no crash, exit status 1 or 2", "[trace_input]") {
  const std::string empty = logs + "/empty.log";
  write(empty, "");
  for (const char* cmd : {"follow --gid 1", "summary", "timeline --out /dev/null"}) {
    INFO(cmd);
    const result r = trace(std::string(cmd) + " " + quoted(empty), "empty");
    CHECK(r.status == 1);  // read fine, nothing matched
  }
  const result missing = trace("follow --gid 1 " + quoted(logs + "/no-such.log"), "missing");
  CHECK(missing.status == 2);
  CHECK(missing.err.find("cannot open") != std::string::npos);

  std::string noise(1 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : noise) c = static_cast<char>(rng());
  const std::string binary = logs + "/binary.log";
  write(binary, noise);
  const result r = trace("--max-errors 3 summary " + quoted(binary), "binary");
  CHECK(r.status == 1);
  CHECK(r.err.find("further bad lines are counted") != std::string::npos);
  // A gzip file cut short: what was decompressed is used, the read error is reported.
  const result gz = run("seq 1 100000 | gzip | head -c 4000 > " + quoted(logs + "/cut.log.gz") + " && " +
                            quoted(tool) + " summary " + quoted(logs + "/cut.log.gz"),
                        "cut_gz");
  CHECK(gz.status == 2);
  CHECK(gz.err.find("read failed") != std::string::npos);
  const result usage = trace("follow", "usage");
  CHECK(usage.status == 2);
  const result bad_pattern = trace("--pattern '%q' summary " + quoted(empty), "bad_pattern");
  CHECK(bad_pattern.status == 2);
  CHECK(bad_pattern.err.find("unknown flag") != std::string::npos);
}
