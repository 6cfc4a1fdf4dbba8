// gidlog-trace follow: prints the trail as it is found, one line per record with its hop depth in
// front (and two spaces of indent per hop), so memory holds the jobs in flight, never the output.
#include <cstring>

#include "commands.h"

namespace gidlog_trace {

int run_follow(const inputs& in, const follow_query& q, const record_filter& f, std::FILE* out) {
  scanner sc(in.reader);
  follower trail(q);
  std::uint64_t shown = 0;
  static constexpr char spaces[] = "                                                                ";
  const scan_stats st = sc.run(in.files, [&](const record& r) {
    const int depth = trail.visit(r);
    if (depth < 0) return;
    const int indent = std::min(2 * depth, static_cast<int>(sizeof spaces - 1));
    if (auto held = trail.take_released(); held && f.pass(held->lvl, held->time_ns)) {
      ++shown;
      std::fprintf(out, "%d %.*s%s\n", depth, indent, spaces, held->raw.c_str());
    }
    if (!f.pass(r.lvl, r.time_ns)) return;
    ++shown;
    std::fprintf(out, "%d %.*s%.*s\n", depth, indent, spaces, static_cast<int>(r.raw.size()), r.raw.data());
  });
  std::fflush(out);
  std::fprintf(stderr, "gidlog-trace: %llu records on the trail (%llu job%s followed), %llu lines read, %llu bad\n",
               static_cast<unsigned long long>(shown), static_cast<unsigned long long>(trail.jobs_followed()),
               trail.jobs_followed() == 1 ? "" : "s",
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
