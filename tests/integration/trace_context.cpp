// A request that arrives with a W3C traceparent, followed through pool and limiter hops in a JSON
// lines file and a text file: every record carries the request's trace_id; each hop runs in a
// child span of its submitter's (parent_span_id = the submitter's span_id), so the spans form the
// tree the code made; JSON lines have trace_id/span_id/trace_flags at the top level (not in
// "ctx"), the text lines have them through %C. Each file is read back and parsed (nlohmann/json).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gidlog/gidlog.h>
#include <gidlog/trace_context.h>

namespace {

constexpr std::string_view incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr std::string_view trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view caller_span = "00f067aa0ba902b7";

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// What a step saw of its own span, checked later on the test thread (Catch2 is not thread-safe).
struct seen {
  std::string traceparent;  // trace_context::current().traceparent() inside the step
  std::string parent;       // its parent_span_id
};

}  // namespace

TEST_CASE("trace context: one trace, a span tree across pool and limiter hops, in JSON and text") {
  const std::string json_path = "/tmp/gidlog_trace_context_" + std::to_string(::getpid()) + ".jsonl";
  const std::string text_path = "/tmp/gidlog_trace_context_" + std::to_string(::getpid()) + ".log";
  gidlog::options opt;
  opt.sinks = {gidlog::json_sink(json_path, {.file = {.truncate = true}}),
               gidlog::file_sink(text_path, {.truncate = true})};
  opt.level = gidlog::level::trace;
  gidlog::start(opt);
  gidlog::set_runtime_log_level(gidlog::level::trace);  // the pools' hop records too

  std::map<std::string, seen> steps;  // written by one job each, read after they all finished
  {
    gidlog::worker_pool pool("tc-pool", 2);
    gidlog::limiter lim("tc-lim", 2);                        // a thread per job
    gidlog::limiter on_pool("tc-limpool", 1, {.pool = &pool});  // jobs on the pool
    LOG_INFO("before the request {step}", "outside");
    pool.submit([] { LOG_INFO("a job outside any trace {step}", "untraced"); }).get();

    const auto parsed = gidlog::trace_context::parse(incoming);
    REQUIRE(parsed.has_value());
    gidlog::context_scope request{{"req", "r-42"}};
    gidlog::context_scope trace{*parsed};
    auto note = [&steps](const char* step) {
      const gidlog::trace_context t = gidlog::trace_context::current();
      steps[step] = {t.traceparent(), t.parent_span_id()};
      LOG_INFO("in {step}", step);
    };
    note("root");
    // root -> pool job -> limiter job (own thread) -> pool job (nested), and root -> limiter job
    // on the pool.
    pool.submit([&] {
          note("pool-job");
          lim.go([&] {
            note("limiter-job");
            pool.submit([&] { note("nested-pool-job"); }).get();
          });
          lim.wait();
        })
        .get();
    on_pool.go([&] { note("limiter-on-pool-job"); });
    on_pool.wait();
    note("root-again");
  }
  LOG_INFO("after the request {step}", "outside");
  gidlog::set_runtime_log_level(gidlog::level::info);
  gidlog::stop();

  const std::vector<std::string> json_lines = read_lines(json_path);
  const std::vector<std::string> text_lines = read_lines(text_path);
  ::unlink(json_path.c_str());
  ::unlink(text_path.c_str());

  // Each step's span as it saw it: the same trace, a new span under its submitter's.
  REQUIRE(steps.size() == 6);
  auto span_of = [&](const std::string& step) { return steps.at(step).traceparent.substr(36, 16); };
  for (const auto& [step, s] : steps) {
    INFO(step << ": " << s.traceparent);
    REQUIRE(gidlog::trace_context::parse(s.traceparent).has_value());
    CHECK(s.traceparent.substr(3, 32) == trace_id);
    CHECK(s.traceparent.substr(52) == "-01");
  }
  CHECK(steps["root"].traceparent == incoming);
  CHECK(steps["root"].parent.empty());
  CHECK(steps["root-again"].traceparent == incoming);
  CHECK(steps["pool-job"].parent == caller_span);
  CHECK(steps["limiter-job"].parent == span_of("pool-job"));
  CHECK(steps["nested-pool-job"].parent == span_of("limiter-job"));
  CHECK(steps["limiter-on-pool-job"].parent == caller_span);
  std::set<std::string> spans;
  for (const auto& [step, s] : steps)
    if (step != "root-again") spans.insert(span_of(step));
  CHECK(spans.size() == 5);  // every hop a new span

  // JSON: the records say the same, with the trace fields at the top level.
  std::map<std::string, nlohmann::json> step_records;
  int traced = 0, hop_records = 0;
  for (const std::string& line : json_lines) {
    INFO(line);
    const nlohmann::json r = nlohmann::json::parse(line);  // throws (fails the test) on a bad line
    const std::string msg = r.at("msg");
    if (r.contains("step")) {
      const std::string step = r.at("step");
      if (step == "outside" || step == "untraced") {
        CHECK_FALSE(r.contains("trace_id"));
        CHECK_FALSE(r.contains("span_id"));
        continue;
      }
      step_records[step] = r;
    }
    const bool ours = r.contains("ctx") && r["ctx"].contains("req");
    if (!ours) {
      CHECK_FALSE(r.contains("trace_id"));
      continue;
    }
    ++traced;
    REQUIRE(r.contains("trace_id"));
    CHECK(r["trace_id"] == trace_id);
    REQUIRE(r.contains("span_id"));
    CHECK(r["trace_flags"] == "01");
    CHECK(r["span_id"].get<std::string>().size() == 16);
    CHECK_FALSE(r["ctx"].contains("trace_id"));  // lifted out of ctx, not written twice
    CHECK_FALSE(r["ctx"].contains("span_id"));
    CHECK_FALSE(r["ctx"].contains("trace_flags"));
    CHECK(r["ctx"]["req"] == "r-42");
    // The pools' hop records: "started"/"finished" run in the job's span, "submitted" in the
    // submitter's; all in one of the request's spans.
    if (msg.find(": job ") != std::string::npos) {
      ++hop_records;
      CHECK(spans.count(r["span_id"].get<std::string>()) == 1);
    }
  }
  REQUIRE(step_records.size() == 6);
  for (const auto& [step, r] : step_records) {
    INFO(step << ": " << r.dump());
    CHECK(r.at("span_id") == span_of(step));
    if (steps[step].parent.empty()) {
      CHECK_FALSE(r.at("ctx").contains("parent_span_id"));
    } else {
      CHECK(r.at("ctx").at("parent_span_id") == steps[step].parent);
    }
  }
  CHECK(traced >= 6 + 4 * 2);  // the steps, and at least started+finished of the 4 hops
  CHECK(hop_records >= 4 * 2);

  // Text: %C prints the trace fields with the other context fields, the job's span on its lines.
  int text_steps = 0;
  for (const std::string& line : text_lines) {
    for (const auto& [step, s] : steps) {
      if (line.find("] in " + step + " ") == std::string::npos && !line.ends_with("] in " + step)) continue;
      INFO(line);
      ++text_steps;
      CHECK(line.find(" req=r-42") != std::string::npos);
      CHECK(line.find(" trace_id=" + std::string(trace_id)) != std::string::npos);
      CHECK(line.find(" span_id=" + span_of(step)) != std::string::npos);
      CHECK(line.find(" trace_flags=01") != std::string::npos);
      if (!s.parent.empty()) CHECK(line.find(" parent_span_id=" + s.parent) != std::string::npos);
    }
    if (line.find("outside") != std::string::npos || line.find("untraced") != std::string::npos) {
      INFO(line);
      CHECK(line.find("trace_id=") == std::string::npos);
    }
  }
  CHECK(text_steps == 6);
}
