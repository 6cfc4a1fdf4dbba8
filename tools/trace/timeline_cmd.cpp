// gidlog-trace timeline: the Chrome Trace Event Format (what Perfetto and chrome://tracing open)
// and a self-contained HTML page drawn from the same lanes, slices, flows and instants.
//   lane     one per gid (thread_name metadata: the gid, and what ran on it when a hop says)
//   slice    "X" per pool or limiter job, from its "started" to its "finished" record
//   flow     "s" at the submitting record (a limiter writes none: its submitter's gid at the
//            time the job was admitted), "f" with binding "e" at the job's start
//   instant  "i" per WARN, ERROR or FATAL record
//   process  one per process (scanner::process_of: the input's file name, or journald's
//            SYSLOG_IDENTIFIER[_PID]), its lanes grouped under it (a Trace Event pid each)
//   remote   a flow from a process's outgoing call to the span of another process that received
//            it: the receiver's parent_span_id is the caller's span_id (W3C trace context). It
//            starts at the caller's last record in that span at or before the receiver's first
//            record (the one that logged the call, when it did), and ends at that first record.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "commands.h"
#include "hops.h"
#include "html_page.h"

namespace gidlog_trace {

namespace {

// A lane: (process index, gid), so gids of different processes stay apart; ordered by process.
using lane_key = std::uint64_t;
lane_key key_of(std::uint32_t process, std::uint32_t gid) { return static_cast<lane_key>(process) << 32 | gid; }
std::uint32_t gid_of(lane_key k) { return static_cast<std::uint32_t>(k); }
std::uint32_t process_of_key(lane_key k) { return static_cast<std::uint32_t>(k >> 32); }

struct slice {
  lane_key gid;
  std::uint32_t submitter;
  std::uint64_t job;
  std::string owner;
  std::int64_t start, end = -1, wait_us, run_us = -1;
  bool ok = true;
  std::vector<std::pair<std::string, std::string>> ctx;
  std::vector<std::string> records;  // the job's records, for the page
  std::uint64_t records_dropped = 0;
};

struct flow {
  lane_key from_gid, to_gid;
  std::int64_t from_ts, to_ts;
  bool remote = false;  // between processes, by trace context
};

struct instant {
  lane_key gid;
  std::int64_t ts;
  level lvl;
  std::string msg, site;
};

struct lane {
  std::string name;
  std::uint64_t records = 0;
};

using job_id = std::tuple<std::uint32_t, std::uint64_t, std::string>;  // process, job, owner

// A span's records, for the remote flows: where each was logged, in log order.
struct span_seen {
  std::uint32_t process = 0;
  std::vector<std::pair<std::int64_t, lane_key>> records;  // time, lane
  std::string parent;                                      // its parent_span_id, if any
};

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
  std::optional<process_followers> trails;
  if (o.only) trails.emplace(*o.only);
  std::map<lane_key, lane> lanes;
  std::vector<std::string> processes;                  // by index, in order of first record
  std::map<std::string, std::uint32_t> process_index;
  std::vector<std::int64_t> index_of_input;            // input -> process index, -1: not seen
  std::vector<slice> slices;
  std::map<job_id, std::size_t> open;                                 // job -> its slice
  std::unordered_map<lane_key, std::vector<std::size_t>> running;      // lane -> open slices
  std::map<job_id, std::pair<lane_key, std::int64_t>> submitted;      // job -> submit record
  std::vector<flow> flows;
  std::vector<instant> instants;
  std::unordered_map<std::string, span_seen> spans;  // span_id -> its records
  std::int64_t t0 = 0, t_last = 0;
  bool any = false;

  const scan_stats st = sc.run(in.files, [&](const record& r) {
    follower* trail = trails ? &trails->of(sc, r) : nullptr;
    const int depth = trail ? trail->visit(r) : 0;
    if (depth < 0 || !o.filter.pass(r)) return;
    t0 = any ? std::min(t0, r.time_ns) : r.time_ns;
    any = true;
    t_last = std::max(t_last, r.time_ns);
    // The process's index: by input for text and JSON lines (no string built per record).
    std::uint32_t proc;
    const std::uint32_t input = sc.input_of(r);
    if (r.process.empty() && input < index_of_input.size() && index_of_input[input] >= 0) {
      proc = static_cast<std::uint32_t>(index_of_input[input]);
    } else {
      const std::string pname = sc.process_of(r);
      auto [pi, fresh] = process_index.try_emplace(pname, static_cast<std::uint32_t>(processes.size()));
      if (fresh) processes.push_back(pname);
      proc = pi->second;
      if (r.process.empty()) {
        if (input >= index_of_input.size()) index_of_input.resize(input + 1, -1);
        index_of_input[input] = proc;
      }
    }
    const lane_key me = key_of(proc, r.gid);
    lane& ln = lanes[me];
    ++ln.records;
    if (const std::string_view* span = r.find("span_id"); span != nullptr && !span->empty()) {
      span_seen& sp = spans[std::string(*span)];
      if (sp.records.empty()) {
        sp.process = proc;
        if (const std::string_view* parent = r.find("parent_span_id")) sp.parent = std::string(*parent);
      }
      if (sp.process == proc) sp.records.emplace_back(r.time_ns, me);
    }
    const hop h = trail ? trail->last_hop() : read_hop(r);
    if (h.kind == hop_kind::submit) {
      submitted[{proc, h.job, std::string(h.owner)}] = {me, r.time_ns};
    } else if (h.kind == hop_kind::start) {
      job_id id{proc, h.job, std::string(h.owner)};
      slice s{me, h.submitter, h.job, std::get<2>(id), r.time_ns, -1, h.wait_us, -1, true, {}, {}, 0};
      for (const field_view& f : r.ctx) s.ctx.emplace_back(std::string(f.key), std::string(f.value));
      if (ln.name.empty()) ln.name = std::string(h.limiter ? "limiter " : "pool ") + std::string(h.name) + (h.limiter ? " job" : " worker");
      if (auto sub = submitted.find(id); sub != submitted.end()) {
        flows.push_back({sub->second.first, me, sub->second.second, r.time_ns});
        submitted.erase(sub);
      } else {
        flows.push_back({key_of(proc, h.submitter), me, r.time_ns - h.wait_us * 1000, r.time_ns});
      }
      lanes[flows.back().from_gid];  // the arrow needs its lane
      open[id] = slices.size();
      running[me].push_back(slices.size());
      slices.push_back(std::move(s));
    } else if (h.kind == hop_kind::worker_start) {
      lanes[key_of(proc, h.executor)].name = "pool " + std::string(h.name) + " worker " + std::to_string(h.worker);
    }
    // The record belongs to the innermost job open on its gid (the start and finish records too).
    if (auto rn = running.find(me); rn != running.end() && !rn->second.empty()) {
      slice& s = slices[rn->second.back()];
      if (s.records.size() < o.records_per_slice) s.records.push_back(readable(r));
      else ++s.records_dropped;
    }
    if (h.kind == hop_kind::finish) {
      if (auto it = open.find({proc, h.job, std::string(h.owner)}); it != open.end()) {
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
      instants.push_back({me, r.time_ns, r.lvl, std::string(r.msg.substr(0, 200)), std::string(r.file) + ":" + std::to_string(r.line)});
  });

  // Remote flows: a span whose parent is a span another process logged in.
  std::size_t remote_flows = 0;
  for (const auto& [id, sp] : spans) {
    if (sp.parent.empty() || sp.records.empty()) continue;
    auto caller = spans.find(sp.parent);
    if (caller == spans.end() || caller->second.process == sp.process || caller->second.records.empty()) continue;
    const auto [t_in, lane_in] = sp.records.front();
    std::pair<std::int64_t, lane_key> from = caller->second.records.front();
    for (const auto& rec : caller->second.records)
      if (rec.first <= t_in && rec.first >= from.first) from = rec;
    flows.push_back({from.second, lane_in, from.first, t_in, true});
    ++remote_flows;
  }
  // In time order, whatever order the spans' map gave.
  std::stable_sort(flows.begin(), flows.end(), [](const flow& a, const flow& b) { return a.from_ts < b.from_ts; });

  auto us = [&](std::int64_t t) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", static_cast<double>(t - t0) / 1000.0);
    return std::string(b);
  };
  // A slice lasts its logged run time; one never finished lasts to the end of the log.
  auto pid = [](lane_key k) { return std::to_string(process_of_key(k) + 1); };
  auto end_of = [&](const slice& s) { return s.run_us >= 0 ? s.start + s.run_us * 1000 : std::max(s.start, t_last); };

  if (!o.out.empty()) {
    std::string j = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"gidlog-trace\",\"start\":" +
                    json_quoted(format_time(t0)) + "},\"traceEvents\":[\n";
    for (std::size_t p = 0; p < processes.size(); ++p)
      j += std::string(p ? ",\n" : "") + "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(p + 1) +
           ",\"tid\":0,\"args\":{\"name\":" + json_quoted(processes[p]) + "}}";
    if (processes.empty()) j += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"gidlog\"}}";
    for (auto& [key, ln] : lanes)
      j += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid(key) + ",\"tid\":" + std::to_string(gid_of(key)) +
           ",\"args\":{\"name\":" + json_quoted("gid-" + std::to_string(gid_of(key)) + (ln.name.empty() ? "" : " " + ln.name)) + "}}";
    for (const slice& s : slices) {
      j += ",\n{\"ph\":\"X\",\"cat\":\"job\",\"name\":" + json_quoted(s.owner + " job " + std::to_string(s.job)) +
           ",\"pid\":" + pid(s.gid) + ",\"tid\":" + std::to_string(gid_of(s.gid)) + ",\"ts\":" + us(s.start) +
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
      // A remote flow: category "trace", named for the header that carried it.
      const std::string cat = f.remote ? R"("cat":"trace","name":"traceparent")" : R"("cat":"hop","name":"submit")";
      j += ",\n{\"ph\":\"s\"," + cat + ",\"id\":" + std::to_string(i + 1) + ",\"pid\":" + pid(f.from_gid) + ",\"tid\":" +
           std::to_string(gid_of(f.from_gid)) + ",\"ts\":" + us(f.from_ts) + "}";
      j += ",\n{\"ph\":\"f\",\"bp\":\"e\"," + cat + ",\"id\":" + std::to_string(i + 1) + ",\"pid\":" + pid(f.to_gid) +
           ",\"tid\":" + std::to_string(gid_of(f.to_gid)) + ",\"ts\":" + us(f.to_ts) + "}";
    }
    for (const instant& e : instants)
      j += ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"record\",\"name\":" + json_quoted(e.msg) + ",\"pid\":" + pid(e.gid) +
           ",\"tid\":" + std::to_string(gid_of(e.gid)) + ",\"ts\":" + us(e.ts) + ",\"args\":{\"level\":\"" + std::string(level_name(e.lvl)) +
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
    // Rows: per process a header row, then its lanes (lanes is ordered by process, then gid).
    std::map<lane_key, std::size_t> lane_index;
    std::string groups;
    std::size_t row = 0;
    std::uint32_t last_process = 0;
    for (auto& [key, ln] : lanes) {
      const std::uint32_t p = process_of_key(key);
      const bool first_of_process = lane_index.empty() || last_process != p;
      last_process = p;
      if (first_of_process)
        groups += (groups.empty() ? "" : ",") + std::string("{\"name\":") + json_quoted(processes[p]) + ",\"row\":" +
                  std::to_string(row++) + "}";
      d += (lane_index.empty() ? "" : ",") + std::string("{\"gid\":") + std::to_string(gid_of(key)) + ",\"process\":" +
           json_quoted(processes[p]) + ",\"row\":" + std::to_string(row++) + ",\"name\":" + json_quoted(ln.name) +
           ",\"records\":" + std::to_string(ln.records) + "}";
      lane_index.emplace(key, lane_index.size());
    }
    d += "],\"processes\":[" + groups + "],\"rows\":" + std::to_string(row) + ",\"slices\":[";
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
           "," + us(flows[i].from_ts) + "," + std::to_string(lane_index[flows[i].to_gid]) + "," + us(flows[i].to_ts) +
           (flows[i].remote ? ",1]" : ",0]");
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
  std::fprintf(stderr, "gidlog-trace: %zu process%s, %zu lanes, %zu job slices, %zu flows (%zu between processes), %zu warnings; "
               "%llu lines read, %llu bad\n", processes.size(), processes.size() == 1 ? "" : "es",
               lanes.size(), slices.size(), flows.size(), remote_flows, instants.size(), static_cast<unsigned long long>(st.lines),
               static_cast<unsigned long long>(st.bad));
  return exit_status(st, any);
}

}  // namespace gidlog_trace
