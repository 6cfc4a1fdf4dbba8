// gidlog-trace timeline: the Chrome Trace Event Format (what Perfetto and chrome://tracing open)
// and a self-contained HTML page drawn from the same lanes, slices, flows and instants.
//   lane     one per gid (thread_name metadata: the gid, and what ran on it when a hop says)
//   slice    "X" per pool or limiter job, from its "started" to its "finished" record
//   flow     "s" at the submitting record (a limiter writes none: its submitter's gid at the
//            time the job was admitted), "f" with binding "e" at the job's start
//   instant  "i" per WARN, ERROR or FATAL record
#include <map>
#include <unordered_map>

#include "commands.h"
#include "hops.h"
#include "html_page.h"

namespace gidlog_trace {

namespace {

struct slice {
  std::uint32_t gid, submitter;
  std::uint64_t job;
  std::string owner;
  std::int64_t start, end = -1, wait_us, run_us = -1;
  bool ok = true;
  std::vector<std::pair<std::string, std::string>> ctx;
  std::vector<std::string> records;  // the job's records, for the page
  std::uint64_t records_dropped = 0;
};

struct flow {
  std::uint32_t from_gid, to_gid;
  std::int64_t from_ts, to_ts;
};

struct instant {
  std::uint32_t gid;
  std::int64_t ts;
  level lvl;
  std::string msg, site;
};

struct lane {
  std::string name;
  std::uint64_t records = 0;
};

using job_id = std::pair<std::uint64_t, std::string>;  // job, owner

// One record as the page lists it, the same for text and JSON input: time of day, level, gid,
// site, message, context.
std::string readable(const record& r) {
  std::string s = format_time(r.time_ns).substr(11);
  s += ' ';
  s += level_name(r.lvl);
  s += " gid-" + std::to_string(r.gid) + ' ';
  s += r.file;
  s += ':' + std::to_string(r.line) + ' ';
  s += r.msg;
  for (const field_view& f : r.ctx) {
    s += ' ';
    s += f.key;
    s += '=';
    s += f.value;
  }
  return s;
}

}  // namespace

int run_timeline(const inputs& in, const timeline_options& o) {
  scanner sc(in.reader);
  std::optional<follower> trail;
  if (o.only) trail.emplace(*o.only);
  std::map<std::uint32_t, lane> lanes;
  std::vector<slice> slices;
  std::map<job_id, std::size_t> open;                                  // job -> its slice
  std::unordered_map<std::uint32_t, std::vector<std::size_t>> running;  // gid -> open slices
  std::map<job_id, std::pair<std::uint32_t, std::int64_t>> submitted;   // job -> submit record
  std::vector<flow> flows;
  std::vector<instant> instants;
  std::int64_t t0 = 0, t_last = 0;
  bool any = false;

  const scan_stats st = sc.run(in.files, [&](const record& r) {
    const int depth = trail ? trail->visit(r) : 0;
    if (depth < 0 || !o.filter.pass(r)) return;
    if (!any) t0 = r.time_ns, any = true;
    t_last = std::max(t_last, r.time_ns);
    lane& ln = lanes[r.gid];
    ++ln.records;
    const hop h = trail ? trail->last_hop() : read_hop(r);
    if (h.kind == hop_kind::submit) {
      submitted[{h.job, std::string(h.owner)}] = {r.gid, r.time_ns};
    } else if (h.kind == hop_kind::start) {
      job_id id{h.job, std::string(h.owner)};
      slice s{r.gid, h.submitter, h.job, id.second, r.time_ns, -1, h.wait_us, -1, true, {}, {}, 0};
      for (const field_view& f : r.ctx) s.ctx.emplace_back(std::string(f.key), std::string(f.value));
      if (ln.name.empty()) ln.name = std::string(h.limiter ? "limiter " : "pool ") + std::string(h.name) + (h.limiter ? " job" : " worker");
      if (auto sub = submitted.find(id); sub != submitted.end()) {
        flows.push_back({sub->second.first, r.gid, sub->second.second, r.time_ns});
        submitted.erase(sub);
      } else {
        flows.push_back({h.submitter, r.gid, r.time_ns - h.wait_us * 1000, r.time_ns});
      }
      lanes[flows.back().from_gid];  // the arrow needs its lane
      open[id] = slices.size();
      running[r.gid].push_back(slices.size());
      slices.push_back(std::move(s));
    } else if (h.kind == hop_kind::worker_start) {
      lanes[h.executor].name = "pool " + std::string(h.name) + " worker " + std::to_string(h.worker);
    }
    // The record belongs to the innermost job open on its gid (the start and finish records too).
    if (auto rn = running.find(r.gid); rn != running.end() && !rn->second.empty()) {
      slice& s = slices[rn->second.back()];
      if (s.records.size() < o.records_per_slice) s.records.push_back(readable(r));
      else ++s.records_dropped;
    }
    if (h.kind == hop_kind::finish) {
      if (auto it = open.find({h.job, std::string(h.owner)}); it != open.end()) {
        slice& s = slices[it->second];
        s.end = r.time_ns;
        s.run_us = h.run_us;
        s.ok = h.ok;
        auto& stack = running[s.gid];
        std::erase(stack, it->second);
        open.erase(it);
      }
    }
    if (r.lvl >= level::warn && r.lvl != level::unknown)
      instants.push_back({r.gid, r.time_ns, r.lvl, std::string(r.msg.substr(0, 200)), std::string(r.file) + ":" + std::to_string(r.line)});
  });

  auto us = [&](std::int64_t t) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", static_cast<double>(t - t0) / 1000.0);
    return std::string(b);
  };
  // A slice lasts its logged run time; one never finished lasts to the end of the log.
  auto end_of = [&](const slice& s) { return s.run_us >= 0 ? s.start + s.run_us * 1000 : std::max(s.start, t_last); };

  if (!o.out.empty()) {
    std::string j = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"gidlog-trace\",\"start\":" +
                    json_quoted(format_time(t0)) + "},\"traceEvents\":[\n";
    j += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"gidlog\"}}";
    for (auto& [gid, ln] : lanes)
      j += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":" + std::to_string(gid) + ",\"args\":{\"name\":" +
           json_quoted("gid-" + std::to_string(gid) + (ln.name.empty() ? "" : " " + ln.name)) + "}}";
    for (const slice& s : slices) {
      j += ",\n{\"ph\":\"X\",\"cat\":\"job\",\"name\":" + json_quoted(s.owner + " job " + std::to_string(s.job)) +
           ",\"pid\":1,\"tid\":" + std::to_string(s.gid) + ",\"ts\":" + us(s.start) +
           ",\"dur\":" + std::to_string((end_of(s) - s.start) / 1000) + ",\"args\":{\"job\":" + std::to_string(s.job) +
           ",\"owner\":" + json_quoted(s.owner) + ",\"submitter\":" + std::to_string(s.submitter) +
           ",\"wait_us\":" + std::to_string(s.wait_us) + ",\"run_us\":" + std::to_string(s.run_us) +
           ",\"outcome\":\"" + (s.run_us < 0 ? "unfinished" : s.ok ? "ok" : "threw") + "\",\"ctx\":{";
      for (std::size_t i = 0; i < s.ctx.size(); ++i)
        j += (i ? "," : "") + json_quoted(s.ctx[i].first) + ":" + json_quoted(s.ctx[i].second);
      j += "}}}";
    }
    for (std::size_t i = 0; i < flows.size(); ++i) {
      const flow& f = flows[i];
      j += ",\n{\"ph\":\"s\",\"cat\":\"hop\",\"name\":\"submit\",\"id\":" + std::to_string(i + 1) + ",\"pid\":1,\"tid\":" +
           std::to_string(f.from_gid) + ",\"ts\":" + us(f.from_ts) + "}";
      j += ",\n{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"hop\",\"name\":\"submit\",\"id\":" + std::to_string(i + 1) +
           ",\"pid\":1,\"tid\":" + std::to_string(f.to_gid) + ",\"ts\":" + us(f.to_ts) + "}";
    }
    for (const instant& e : instants)
      j += ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"record\",\"name\":" + json_quoted(e.msg) + ",\"pid\":1,\"tid\":" +
           std::to_string(e.gid) + ",\"ts\":" + us(e.ts) + ",\"args\":{\"level\":\"" + std::string(level_name(e.lvl)) +
           "\",\"site\":" + json_quoted(e.site) + "}}";
    j += "\n]}\n";
    std::FILE* f = std::fopen(o.out.c_str(), "w");
    if (f == nullptr || std::fwrite(j.data(), 1, j.size(), f) != j.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "gidlog-trace: cannot write %s\n", o.out.c_str());
      return 2;
    }
  }

  if (!o.html.empty()) {
    // The page's data: times in microseconds from the first record.
    std::string d = "{\"start\":" + json_quoted(format_time(t0)) + ",\"end\":" + us(t_last) + ",\"lanes\":[";
    std::map<std::uint32_t, std::size_t> lane_index;
    for (auto& [gid, ln] : lanes) {
      d += (lane_index.empty() ? "" : ",") + std::string("{\"gid\":") + std::to_string(gid) + ",\"name\":" +
           json_quoted(ln.name) + ",\"records\":" + std::to_string(ln.records) + "}";
      lane_index.emplace(gid, lane_index.size());
    }
    d += "],\"slices\":[";
    for (std::size_t i = 0; i < slices.size(); ++i) {
      const slice& s = slices[i];
      std::string ctx;
      for (auto& [k, v] : s.ctx) ctx += " " + k + "=" + v;
      d += (i ? ",\n" : "\n") + std::string("{\"lane\":") + std::to_string(lane_index[s.gid]) + ",\"t0\":" + us(s.start) +
           ",\"t1\":" + us(end_of(s)) + ",\"name\":" + json_quoted(s.owner + " job " + std::to_string(s.job)) +
           ",\"info\":" + json_quoted("submitted by gid-" + std::to_string(s.submitter) + ", waited " + std::to_string(s.wait_us) +
                                      " us, ran " + (s.run_us < 0 ? std::string("(unfinished)") : std::to_string(s.run_us) + " us") + ctx) +
           ",\"records\":[";
      for (std::size_t k = 0; k < s.records.size(); ++k) d += (k ? "," : "") + json_quoted(s.records[k]);
      if (s.records_dropped > 0) d += ",\"... " + std::to_string(s.records_dropped) + " more records\"";
      d += "]}";
    }
    d += "],\"flows\":[";
    for (std::size_t i = 0; i < flows.size(); ++i)
      d += (i ? "," : "") + std::string("[") + std::to_string(lane_index[flows[i].from_gid]) +
           "," + us(flows[i].from_ts) + "," + std::to_string(lane_index[flows[i].to_gid]) + "," + us(flows[i].to_ts) + "]";
    d += "],\"instants\":[";
    for (std::size_t i = 0; i < instants.size(); ++i)
      d += (i ? "," : "") + std::string("{\"lane\":") + std::to_string(lane_index[instants[i].gid]) + ",\"t\":" +
           us(instants[i].ts) + ",\"text\":" + json_quoted(std::string(level_name(instants[i].lvl)) + " " + instants[i].site + " " + instants[i].msg) + "}";
    d += "]}";
    const std::string page = html_page(d);
    std::FILE* f = std::fopen(o.html.c_str(), "w");
    if (f == nullptr || std::fwrite(page.data(), 1, page.size(), f) != page.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "gidlog-trace: cannot write %s\n", o.html.c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "gidlog-trace: %zu lanes, %zu job slices, %zu flows, %zu warnings; %llu lines read, %llu bad\n",
               lanes.size(), slices.size(), flows.size(), instants.size(), static_cast<unsigned long long>(st.lines),
               static_cast<unsigned long long>(st.bad));
  return exit_status(st, any);
}

}  // namespace gidlog_trace
