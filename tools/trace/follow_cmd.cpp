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
  return exit_status(st, shown > 0);
}

}  // namespace gidlog_trace
