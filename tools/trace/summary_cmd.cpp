// gidlog-trace summary: per gid (records by level, first and last time, busiest call sites), per
// pool and per limiter (jobs, queue wait and run time percentiles, slow jobs, rejects). Keeps one
// wait and one run time per job, which is what its percentiles are computed from.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "commands.h"
#include "hops.h"

namespace gidlog_trace {

namespace {

struct gid_summary {
  std::uint64_t by_level[7] = {};
  std::int64_t first = 0, last = 0;
  std::string name;  // "pool requests worker 2", "limiter backend job thread"
  std::unordered_map<std::string, std::uint64_t> sites;
};

struct slow_job {
  std::uint64_t job;
  std::int64_t run_us;
  std::uint32_t gid;
};

struct owner_summary {
  bool limiter = false;
  std::uint64_t jobs = 0, finished = 0, failed = 0, rejected = 0, slow_warnings = 0;
  std::vector<std::int64_t> wait_us, run_us;
  std::vector<slow_job> slowest;  // kept sorted, longest first, at most slow_jobs
};

void keep_slowest(std::vector<slow_job>& v, slow_job j, std::size_t n) {
  auto at = std::find_if(v.begin(), v.end(), [&](const slow_job& s) { return s.run_us < j.run_us; });
  v.insert(at, j);
  if (v.size() > n) v.pop_back();
}

struct stats3 {
  std::int64_t p50, p99, max;
};
stats3 stats_of(std::vector<std::int64_t>& v) {
  std::sort(v.begin(), v.end());
  return {percentile(v, 50), percentile(v, 99), v.empty() ? 0 : v.back()};
}

std::vector<std::pair<std::string, std::uint64_t>> busiest(const gid_summary& g, std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> v(g.sites.begin(), g.sites.end());
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  if (v.size() > n) v.resize(n);
  return v;
}

}  // namespace

int run_summary(const inputs& in, const summary_options& o, std::FILE* out) {
  scanner sc(in.reader);
  std::map<std::uint32_t, gid_summary> gids;
  std::map<std::string, owner_summary> owners;  // by `pool "name"` / `limiter "name"`
  std::uint64_t records = 0;
  std::string site;
  const scan_stats st = sc.run(in.files, [&](const record& r) {
    ++records;
    auto [it, fresh] = gids.try_emplace(r.gid);
    gid_summary& g = it->second;
    if (fresh) g.first = r.time_ns;
    g.last = r.time_ns;
    ++g.by_level[static_cast<int>(r.lvl)];
    site.assign(r.file);
    site += ':';
    site += std::to_string(r.line);
    ++g.sites[site];
    const hop h = read_hop(r);
    if (h.kind == hop_kind::none) return;
    owner_summary& os = owners[std::string(h.owner)];
    os.limiter = h.limiter;
    switch (h.kind) {
      case hop_kind::start:
        ++os.jobs;
        os.wait_us.push_back(h.wait_us);
        if (g.name.empty()) g.name = std::string(h.limiter ? "limiter " : "pool ") + std::string(h.name) + (h.limiter ? " job thread" : " worker");
        break;
      case hop_kind::finish:
        ++os.finished;
        os.failed += h.ok ? 0 : 1;
        os.run_us.push_back(h.run_us);
        keep_slowest(os.slowest, {h.job, h.run_us, r.gid}, o.slow_jobs);
        break;
      case hop_kind::slow: ++os.slow_warnings; break;
      case hop_kind::reject: ++os.rejected; break;
      case hop_kind::worker_start:
        gids[h.executor].name = "pool " + std::string(h.name) + " worker " + std::to_string(h.worker);
        break;
      default: break;
    }
  });

  if (o.json) {
    std::string j = "{\"records\":" + std::to_string(records) + ",\"bad_lines\":" + std::to_string(st.bad) + ",\"gids\":[";
    bool first = true;
    for (auto& [gid, g] : gids) {
      j += first ? "" : ",";
      first = false;
      j += "{\"gid\":" + std::to_string(gid) + ",\"name\":" + json_quoted(g.name) + ",\"levels\":{";
      bool fl = true;
      for (int l = 0; l < 7; ++l) {
        if (g.by_level[l] == 0) continue;
        j += (fl ? "\"" : ",\"") + std::string(level_name(static_cast<level>(l))) + "\":" + std::to_string(g.by_level[l]);
        fl = false;
      }
      j += "},\"first\":" + json_quoted(format_time(g.first)) + ",\"last\":" + json_quoted(format_time(g.last)) + ",\"sites\":[";
      bool fs = true;
      for (auto& [s, n] : busiest(g, o.top_sites)) {
        j += (fs ? "" : ",") + std::string("{\"site\":") + json_quoted(s) + ",\"records\":" + std::to_string(n) + "}";
        fs = false;
      }
      j += "]}";
    }
    for (int pass = 0; pass < 2; ++pass) {
      j += pass == 0 ? "],\"pools\":[" : "],\"limiters\":[";
      bool fo = true;
      for (auto& [owner, s] : owners) {
        if (s.limiter != (pass == 1)) continue;
        const stats3 w = stats_of(s.wait_us), rn = stats_of(s.run_us);
        j += (fo ? "" : ",") + std::string("{\"name\":") + json_quoted(owner) + ",\"jobs\":" + std::to_string(s.jobs) +
             ",\"finished\":" + std::to_string(s.finished) + ",\"failed\":" + std::to_string(s.failed) +
             ",\"rejected\":" + std::to_string(s.rejected) + ",\"slow_warnings\":" + std::to_string(s.slow_warnings) +
             ",\"wait_us\":{\"p50\":" + std::to_string(w.p50) + ",\"p99\":" + std::to_string(w.p99) + ",\"max\":" +
             std::to_string(w.max) + "},\"run_us\":{\"p50\":" + std::to_string(rn.p50) + ",\"p99\":" +
             std::to_string(rn.p99) + ",\"max\":" + std::to_string(rn.max) + "},\"slowest\":[";
        bool fj = true;
        for (const slow_job& sj : s.slowest) {
          j += (fj ? "" : ",") + std::string("{\"job\":") + std::to_string(sj.job) + ",\"run_us\":" +
               std::to_string(sj.run_us) + ",\"gid\":" + std::to_string(sj.gid) + "}";
          fj = false;
        }
        j += "]}";
        fo = false;
      }
    }
    j += "]}\n";
    std::fputs(j.c_str(), out);
  } else {
    std::fprintf(out, "%llu records, %zu gids, %llu bad lines skipped\n\n", static_cast<unsigned long long>(records),
                 gids.size(), static_cast<unsigned long long>(st.bad));
    std::fprintf(out, "%-10s %-28s %7s %7s %7s %7s %7s %7s  %-26s %-26s  %s\n", "gid", "thread", "TRACE", "DEBUG",
                 "INFO", "WARN", "ERROR", "FATAL", "first", "last", "busiest sites");
    for (auto& [gid, g] : gids) {
      std::string sites;
      for (auto& [s, n] : busiest(g, o.top_sites)) sites += (sites.empty() ? "" : ", ") + s + " x" + std::to_string(n);
      std::fprintf(out, "gid-%-6u %-28s %7llu %7llu %7llu %7llu %7llu %7llu  %-26s %-26s  %s\n", gid,
                   g.name.empty() ? "-" : g.name.c_str(), static_cast<unsigned long long>(g.by_level[0]),
                   static_cast<unsigned long long>(g.by_level[1]), static_cast<unsigned long long>(g.by_level[2]),
                   static_cast<unsigned long long>(g.by_level[3]), static_cast<unsigned long long>(g.by_level[4]),
                   static_cast<unsigned long long>(g.by_level[5]), format_time(g.first).c_str(),
                   format_time(g.last).c_str(), sites.c_str());
    }
    for (int pass = 0; pass < 2; ++pass) {
      bool header = false;
      for (auto& [owner, s] : owners) {
        if (s.limiter != (pass == 1)) continue;
        if (!header) {
          std::fprintf(out, "\n%-24s %6s %6s %6s %6s  %-26s  %-26s\n", pass == 0 ? "pool" : "limiter", "jobs", "failed",
                       "reject", "slow", pass == 0 ? "queue wait us p50/p99/max" : "token wait us p50/p99/max",
                       "run us p50/p99/max");
          header = true;
        }
        const stats3 w = stats_of(s.wait_us), rn = stats_of(s.run_us);
        const std::string ws = std::to_string(w.p50) + " / " + std::to_string(w.p99) + " / " + std::to_string(w.max);
        const std::string rs = std::to_string(rn.p50) + " / " + std::to_string(rn.p99) + " / " + std::to_string(rn.max);
        std::fprintf(out, "%-24s %6llu %6llu %6llu %6llu  %-26s  %-26s\n", owner.c_str(),
                     static_cast<unsigned long long>(s.jobs), static_cast<unsigned long long>(s.failed),
                     static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.slow_warnings),
                     ws.c_str(), rs.c_str());
        std::string slow;
        for (const slow_job& sj : s.slowest)
          slow += (slow.empty() ? "" : ", ") + ("job " + std::to_string(sj.job)) + " " + std::to_string(sj.run_us) +
                  " us on gid-" + std::to_string(sj.gid);
        if (!slow.empty()) std::fprintf(out, "  slowest: %s\n", slow.c_str());
      }
    }
  }
  std::fflush(out);
  return exit_status(st, records > 0);
}

}  // namespace gidlog_trace
