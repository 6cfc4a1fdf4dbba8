// gidlog-trace: follow a request across gids, summarise a log, draw it as a timeline.
// Arguments with CLI11; the work is in the *_cmd.cpp files (see commands.h).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <ctime>

#include "commands.h"

namespace {

using namespace gidlog_trace;

// --field key=value
bool split_field(const std::string& s, follow_query& q) {
  const std::size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  q.key = s.substr(0, eq);
  q.value = s.substr(eq + 1);
  return true;
}

// --trace-id: the 32 hex digits of a W3C trace id, as records carry it (lower case).
bool trace_id_query(std::string id, follow_query& q) {
  if (id.size() != 32) return false;
  for (char& c : id) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  q.key = "trace_id";
  q.value = id;
  return true;
}

int current_year() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return tm.tm_year + 1900;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gidlog-trace: follow a request across gids, summarise a gidlog log, draw it as a timeline.\n"
               "Reads text lines (the default pattern or --pattern) and json_sink lines, rotated sets\n"
               "(app.log reads app.N.log .. app.1.log first), .gz files, journalctl -o json output, or\n"
               "stdin ('-' or no file). Several files are several processes' logs: followed apart, merged\n"
               "by time, each line marked by its process.",
               "gidlog-trace"};
  app.require_subcommand(1);
  app.fallthrough();  // the input options may also follow the subcommand
  inputs in;
  std::string min_level = "trace", from, to;
  bool no_rotated = false;
  app.add_option("--pattern", in.reader.pattern, "the text pattern the log was written with (options::pattern flags)")
      ->capture_default_str();
  app.add_option("--max-line", in.reader.max_line, "longer lines are reported and skipped (bytes)")->capture_default_str();
  app.add_option("--year", in.reader.year, "year of records whose pattern has no %Y (default: this year)");
  app.add_flag("--no-rotated", no_rotated, "read each file alone, not its rotated older parts");
  app.add_option("--max-errors", in.reader.max_reports, "bad lines described on stderr (the rest are counted)")
      ->capture_default_str();
  auto add_files = [&](CLI::App* c) { c->add_option("files", in.files, "log files ('-': stdin; none: stdin)"); };
  auto add_window = [&](CLI::App* c) {
    c->add_option("--from", from, "first time: 2026-11-30T19:28:18Z, 1130/192818.812 or 19:28:18 (time of day)");
    c->add_option("--to", to, "last time, same forms");
    c->add_option("--level", min_level, "lowest level shown: trace debug info warn error fatal")->capture_default_str();
  };

  follow_query fq;
  std::uint32_t gid = 0;
  std::string field;
  CLI::App* follow = app.add_subcommand("follow", "the records of a gid or a context field, and of the jobs it handed "
                                                  "to pools and limiters, each line prefixed with its hop depth");
  auto* gid_opt = follow->add_option("--gid", gid, "the gid to follow");
  auto* field_opt = follow->add_option("--field", field, "key=value of a context field, e.g. req=r-42");
  std::string trace_id;
  auto* trace_opt = follow->add_option("--trace-id", trace_id, "a W3C trace id (32 hex digits): --field trace_id=ID");
  gid_opt->excludes(field_opt);
  trace_opt->excludes(gid_opt)->excludes(field_opt);
  add_window(follow);
  add_files(follow);

  summary_options so;
  CLI::App* summary = app.add_subcommand("summary", "per gid, per pool and per limiter: counts, times, percentiles");
  summary->add_flag("--json", so.json, "one JSON object instead of tables");
  summary->add_option("--sites", so.top_sites, "busiest call sites shown per gid")->capture_default_str();
  summary->add_option("--slow", so.slow_jobs, "longest jobs shown per pool")->capture_default_str();
  add_files(summary);

  timeline_options to_opt;
  std::uint32_t t_gid = 0;
  std::string t_field;
  CLI::App* timeline = app.add_subcommand("timeline", "Chrome Trace Event JSON (Perfetto, chrome://tracing) and/or an "
                                                      "HTML page: a lane per gid, a slice per job, submit arrows");
  timeline->add_option("--out", to_opt.out, "Trace Event JSON file to write");
  timeline->add_option("--html", to_opt.html, "self-contained HTML page to write");
  auto* t_gid_opt = timeline->add_option("--gid", t_gid, "only the trail of this gid");
  auto* t_field_opt = timeline->add_option("--field", t_field, "only the trail of key=value");
  std::string t_trace_id;
  auto* t_trace_opt = timeline->add_option("--trace-id", t_trace_id, "only the trail of this W3C trace id");
  t_gid_opt->excludes(t_field_opt);
  t_trace_opt->excludes(t_gid_opt)->excludes(t_field_opt);
  add_window(timeline);
  add_files(timeline);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  in.reader.rotated = !no_rotated;
  if (in.reader.year == 0) in.reader.year = current_year();

  record_filter filter;
  filter.min_level = parse_level(min_level);
  if (filter.min_level == level::unknown) {
    std::fprintf(stderr, "gidlog-trace: --level %s: not a level (trace debug info warn error fatal)\n", min_level.c_str());
    return 2;
  }
  for (auto [text, bound] : {std::pair{&from, &filter.from}, std::pair{&to, &filter.to}}) {
    if (text->empty()) continue;
    *bound = parse_time_bound(*text, in.reader.year);
    if (!*bound) {
      std::fprintf(stderr, "gidlog-trace: %s: not a time (2026-11-30T19:28:18Z, 1130/192818.812 or 19:28:18)\n", text->c_str());
      return 2;
    }
  }
  try {
    if (follow->parsed()) {
      if (gid_opt->count() > 0) fq.gid = gid;
      else if (trace_opt->count() > 0) {
        if (!trace_id_query(trace_id, fq)) {
          std::fprintf(stderr, "gidlog-trace follow: --trace-id %s: not a trace id (32 hex digits)\n", trace_id.c_str());
          return 2;
        }
      } else if (field_opt->count() == 0 || !split_field(field, fq)) {
        std::fprintf(stderr, "gidlog-trace follow: give --gid N, --field key=value or --trace-id ID\n");
        return 2;
      }
      return run_follow(in, fq, filter, stdout);
    }
    if (summary->parsed()) return run_summary(in, so, stdout);
    if (to_opt.out.empty() && to_opt.html.empty()) {
      std::fprintf(stderr, "gidlog-trace timeline: give --out trace.json and/or --html page.html\n");
      return 2;
    }
    if (t_gid_opt->count() > 0) to_opt.only = follow_query{t_gid, {}, {}};
    if (t_field_opt->count() > 0) {
      follow_query q;
      if (!split_field(t_field, q)) {
        std::fprintf(stderr, "gidlog-trace timeline: --field wants key=value\n");
        return 2;
      }
      to_opt.only = q;
    }
    if (t_trace_opt->count() > 0) {
      follow_query q;
      if (!trace_id_query(t_trace_id, q)) {
        std::fprintf(stderr, "gidlog-trace timeline: --trace-id %s: not a trace id (32 hex digits)\n", t_trace_id.c_str());
        return 2;
      }
      to_opt.only = q;
    }
    to_opt.filter = filter;
    return run_timeline(in, to_opt);
  } catch (const std::exception& e) {  // a bad --pattern, out of memory
    std::fprintf(stderr, "gidlog-trace: %s\n", e.what());
    return 2;
  }
}
