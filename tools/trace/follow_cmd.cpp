// gidlog-trace follow: prints the trail as it is found, one line per record with its hop depth in
// front (and two spaces of indent per hop), so memory holds the jobs in flight, never the output.
// Given the logs of several processes (more than one input), it holds the trail's lines instead and
// prints them merged by time, each marked by its process after the depth:
//   0 client.jsonl {"ts":...}
//   1 server.log     [1207/004512.118:INFO:gid-...] ...
// Each process's lines keep their order in its log; the merge takes, among the processes, the
// line with the earliest time next. A journald record (journalctl -o json) is always marked, by
// SYSLOG_IDENTIFIER[_PID], since one journal holds many processes.
#include <algorithm>
#include <cstring>
#include <map>
#include <queue>

#include "commands.h"

namespace gidlog_trace {

int run_follow(const inputs& in, const follow_query& q, const record_filter& f, std::FILE* out) {
  scanner sc(in.reader);
  process_followers trails(q);
  const bool merge = in.files.size() > 1;
  struct kept_line {
    std::int64_t time_ns;
    int depth;
    std::string raw;
  };
  std::map<std::string, std::vector<kept_line>> kept;  // merge: per process, in log order
  std::uint64_t shown = 0;
  static constexpr char spaces[] = "                                                                ";
  auto emit = [&](int depth, std::int64_t time_ns, std::string_view raw, const record& r) {
    ++shown;
    if (merge) {
      kept[sc.process_of(r)].push_back({time_ns, depth, std::string(raw)});
      return;
    }
    const int indent = std::min(2 * depth, static_cast<int>(sizeof spaces - 1));
    if (!r.process.empty())
      std::fprintf(out, "%d %s %.*s%.*s\n", depth, sc.process_of(r).c_str(), indent, spaces, static_cast<int>(raw.size()), raw.data());
    else
      std::fprintf(out, "%d %.*s%.*s\n", depth, indent, spaces, static_cast<int>(raw.size()), raw.data());
  };
  const scan_stats st = sc.run(in.files, [&](const record& r) {
    follower& trail = trails.of(sc, r);
    const int depth = trail.visit(r);
    if (depth < 0) return;
    if (auto held = trail.take_released(); held && f.pass(held->lvl, held->time_ns)) emit(depth, held->time_ns, held->raw, r);
    if (!f.pass(r.lvl, r.time_ns)) return;
    emit(depth, r.time_ns, r.raw, r);
  });
  if (merge) {
    std::size_t width = 0;
    for (const auto& [name, v] : kept) width = std::max(width, name.size());
    // (time, process, index): the earliest head first; equal times by process name, stably.
    using head = std::tuple<std::int64_t, const std::string*, std::size_t>;
    std::priority_queue<head, std::vector<head>, std::greater<head>> next;
    std::map<const std::string*, const std::vector<kept_line>*> lines_of;
    for (const auto& [name, v] : kept) {
      lines_of[&name] = &v;
      next.emplace(v.front().time_ns, &name, 0);
    }
    while (!next.empty()) {
      auto [t, name, i] = next.top();
      next.pop();
      const std::vector<kept_line>& v = *lines_of[name];
      const kept_line& l = v[i];
      const int indent = std::min(2 * l.depth, static_cast<int>(sizeof spaces - 1));
      std::fprintf(out, "%d %-*s %.*s%s\n", l.depth, static_cast<int>(width), name->c_str(), indent, spaces, l.raw.c_str());
      if (i + 1 < v.size()) next.emplace(v[i + 1].time_ns, name, i + 1);
    }
  }
  std::fflush(out);
  const std::string from = merge ? ", from " + std::to_string(kept.size()) + (kept.size() == 1 ? " process" : " processes") : "";
  std::fprintf(stderr, "gidlog-trace: %llu records on the trail (%llu job%s followed%s), %llu lines read, %llu bad\n",
               static_cast<unsigned long long>(shown), static_cast<unsigned long long>(trails.jobs_followed()),
               trails.jobs_followed() == 1 ? "" : "s", from.c_str(),
               static_cast<unsigned long long>(st.lines), static_cast<unsigned long long>(st.bad));
  // --field on text lines without context pairs can only find records with that named field (a
  // JSON line's): say why the trail is empty and what gets the context into the text log.
  if (shown == 0 && !q.key.empty() && st.text_records > 0 && st.text_with_context == 0) {
    if (!sc.text_has_context())
      std::fprintf(stderr,
                   "gidlog-trace: the text log carries no context fields: its pattern (--pattern \"%s\") has no %%C, "
                   "which writes them after the message (\" req=r-42\"). Log with %%C at the end of "
                   "options::pattern (the default pattern has it) or to a json_sink, or follow a thread with --gid\n",
                   in.reader.pattern.c_str());
    else
      std::fprintf(stderr,
                   "gidlog-trace: no text line carries context fields (\" key=value\" pairs after the message): was "
                   "the log written with %%C in options::pattern (the default pattern has it; a custom one needs "
                   "it) and under a gidlog::context_scope? Or follow a thread with --gid\n");
  }
  return exit_status(st, shown > 0);
}

}  // namespace gidlog_trace
