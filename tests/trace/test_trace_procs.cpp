// gidlog-trace across processes: two real processes (trace_http_peer), a client calling a server
// over loopback HTTP with a W3C traceparent header, both logging with gidlog; then gidlog-trace
// follows one request through both logs (JSON + JSON, JSON + the server's text log, JSON + the
// server's records as journalctl -o json writes them) and draws both processes' timeline. What it
// prints is checked against the logs read with an independent parser (nlohmann/json).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "journald_daemon.h"
#include "trace_test_util.h"

using namespace trace_test;

namespace {

const std::string peer = GIDLOG_TRACE_PEER;
// The server's text pattern (trace_http_peer.cpp): the offset makes its times comparable with UTC.
const std::string server_pattern = "%Y-%m-%dT%H:%M:%S.%f%z %l gid-%t %s:%# %v%C";
constexpr int requests = 3;

struct run_result {
  std::string dir;
  pid_t server_pid = 0;
  std::vector<std::string> trace_ids;  // per request, from the client
};

// Runs the server, then the client against it, each writing its logs to a directory of its own
// test case. Waits for the server to print its port (it is listening then), and for both to exit.
// With `journal_socket`, the server also logs to that journald (journald_sink).
run_result run_peers(const std::string& tag, const std::string& journal_socket = "") {
  run_result r;
  r.dir = logs + "/" + tag;
  std::filesystem::remove_all(r.dir);
  std::filesystem::create_directories(r.dir);
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    if (journal_socket.empty())
      ::execl(peer.c_str(), peer.c_str(), "server", r.dir.c_str(), static_cast<char*>(nullptr));
    else
      ::execl(peer.c_str(), peer.c_str(), "server", r.dir.c_str(), journal_socket.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  r.server_pid = pid;
  std::FILE* from_server = ::fdopen(out[0], "r");
  char line[64] = {};
  int port = 0;
  const bool started = std::fgets(line, sizeof line, from_server) != nullptr && std::sscanf(line, "port %d", &port) == 1;
  std::fclose(from_server);
  if (!started) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    FAIL("trace_http_peer server did not start listening (no \"port N\" line)");
  }
  const result client = run(trace_test::quoted(peer) + " client " + trace_test::quoted(r.dir) + " " + std::to_string(port) + " " +
                                std::to_string(requests),
                            tag + "_client");
  if (client.status != 0) ::kill(pid, SIGTERM);  // it would wait for the client's /quit forever
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  INFO("client stderr: " << client.err);
  REQUIRE(client.status == 0);
  REQUIRE(WIFEXITED(st));
  REQUIRE(WEXITSTATUS(st) == 0);
  for (const std::string& l : lines(client.out))
    if (l.rfind("trace ", 0) == 0) r.trace_ids.push_back(l.substr(6));
  REQUIRE(r.trace_ids.size() == requests);
  return r;
}

std::vector<nlohmann::json> json_lines(const std::string& path) {
  std::vector<nlohmann::json> v;
  for (const std::string& l : lines(slurp(path))) v.push_back(nlohmann::json::parse(l));
  return v;
}

std::string str(const nlohmann::json& j, const char* key) { return j.contains(key) ? j[key].get<std::string>() : ""; }

// One line of a merged follow: depth, the process mark, the record as logged.
struct out_line {
  int depth;
  std::string mark, raw;
};

std::vector<out_line> parse_follow(const std::string& out) {
  static const std::regex re(R"(^(\d+) (\S+) +(\S.*)$)");
  std::vector<out_line> v;
  for (const std::string& l : lines(out)) {
    std::smatch m;
    INFO(l);
    REQUIRE(std::regex_match(l, m, re));
    v.push_back({std::stoi(m[1]), m[2], m[3]});
  }
  return v;
}

// "2026-12-07T00:45:12.123456789Z" -> microseconds since 1970 (what journald stamps).
long long micros_of(const std::string& ts) {
  std::tm tm{};
  REQUIRE(strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  const long long s = ::timegm(&tm);
  const std::size_t dot = ts.find('.');
  REQUIRE(dot != std::string::npos);
  const std::string frac = (ts.substr(dot + 1, ts.size() - dot - 2) + "000000").substr(0, 6);
  return s * 1000000 + std::stoll(frac);
}

// The records of one trace in a JSON-lines log, as "ts msg" in log order.
std::vector<std::string> trace_records(const std::string& path, const std::string& trace_id) {
  std::vector<std::string> v;
  for (const auto& r : json_lines(path))
    if (str(r, "trace_id") == trace_id) v.push_back(str(r, "ts") + " " + str(r, "msg"));
  return v;
}

std::size_t index_of(const std::vector<out_line>& v, const std::string& mark_prefix, const std::string& text) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i].mark.rfind(mark_prefix, 0) == 0 && v[i].raw.find(text) != std::string::npos) return i;
  FAIL("no line of " << mark_prefix << " with \"" << text << "\"");
  return 0;
}

// The request crosses both processes in causal order: the client's call, the server's handler and
// its db job, the reply, the client's answer. Each process's lines are at their hop depth.
void check_causal(const std::vector<out_line>& v, const std::string& server_mark) {
  const std::size_t calling = index_of(v, "client.jsonl", "calling GET /orders/"),
                    received = index_of(v, server_mark, "received"),
                    select = index_of(v, server_mark, "SELECT price"),
                    replying = index_of(v, server_mark, "replying"),
                    answered = index_of(v, "client.jsonl", "server answered 200"),
                    done = index_of(v, "client.jsonl", "done");
  CHECK(calling < received);
  CHECK(received < select);
  CHECK(select < replying);
  CHECK(replying < answered);
  CHECK(answered < done);
  CHECK(v[calling].depth == 1);   // in the client's outbound pool job
  CHECK(v[received].depth == 0);  // the server's handler thread
  CHECK(v[select].depth == 1);    // in the server's db pool job
  CHECK(v[done].depth == 0);
}

}  // namespace

TEST_CASE("follow --trace-id merges one request from the client's and the server's JSON logs by time", "[trace_procs]") {
  const run_result peers = run_peers("follow_json");
  const std::string client = peers.dir + "/client.jsonl", server = peers.dir + "/server.jsonl";
  const std::string id = peers.trace_ids[1];
  const result r = trace("follow --trace-id " + id + " " + trace_test::quoted(client) + " " + trace_test::quoted(server), "procs_follow_json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("from 2 processes") != std::string::npos);
  const auto v = parse_follow(r.out);
  // Exactly the trace's records of each log, each marked by its file, in each log's order.
  std::map<std::string, std::vector<std::string>> got;
  std::string last_ts;
  for (const out_line& l : v) {
    const auto j = nlohmann::json::parse(l.raw);
    CHECK(str(j, "trace_id") == id);
    got[l.mark].push_back(str(j, "ts") + " " + str(j, "msg"));
    CHECK(str(j, "ts") >= last_ts);  // merged by time (RFC 3339 of one width: text order is time order)
    last_ts = str(j, "ts");
  }
  REQUIRE(got.size() == 2);
  CHECK(got["client.jsonl"] == trace_records(client, id));
  CHECK(got["server.jsonl"] == trace_records(server, id));
  CHECK(got["server.jsonl"].size() >= 5);  // handler 3, db job started, query, finished, submitted
  check_causal(v, "server.jsonl");
  // Another request's trace is another set of records; an unknown trace finds nothing (status 1).
  const result other = trace("follow --trace-id " + peers.trace_ids[2] + " " + trace_test::quoted(client) + " " + trace_test::quoted(server), "procs_follow_other");
  CHECK(other.status == 0);
  CHECK(other.out.find(id) == std::string::npos);
  const result none = trace("follow --trace-id 0123456789abcdef0123456789abcdef " + trace_test::quoted(client) + " " + trace_test::quoted(server), "procs_follow_none");
  CHECK(none.status == 1);
  CHECK(none.out.empty());
  const result bad = trace("follow --trace-id 12345 " + trace_test::quoted(client), "procs_follow_bad");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("not a trace id") != std::string::npos);
  // --field trace_id=... is the same query.
  const result field = trace("follow --field trace_id=" + id + " " + trace_test::quoted(client) + " " + trace_test::quoted(server), "procs_follow_field");
  CHECK(field.out == r.out);
}

TEST_CASE("follow --trace-id over the client's JSON log and the server's text log", "[trace_procs]") {
  const run_result peers = run_peers("follow_text");
  const std::string client = peers.dir + "/client.jsonl";
  const std::string id = peers.trace_ids[0];
  const result json = trace("follow --trace-id " + id + " " + trace_test::quoted(client) + " " + trace_test::quoted(peers.dir + "/server.jsonl"), "procs_text_json");
  const result text = trace("--pattern " + trace_test::quoted(server_pattern) + " follow --trace-id " + id + " " + trace_test::quoted(client) + " " +
                                trace_test::quoted(peers.dir + "/server.log"),
                            "procs_text_text");
  INFO(text.err);
  REQUIRE(text.status == 0);
  const auto vj = parse_follow(json.out), vt = parse_follow(text.out);
  REQUIRE(vt.size() == vj.size());
  for (std::size_t i = 0; i < vt.size(); ++i) {
    INFO(vt[i].raw);
    // The same records in the same order: the server's now from its text log.
    CHECK(vt[i].depth == vj[i].depth);
    CHECK(vt[i].mark == (vj[i].mark == "server.jsonl" ? "server.log" : vj[i].mark));
    if (vt[i].mark == "server.log") {
      CHECK(vt[i].raw.find(" trace_id=" + id) != std::string::npos);
      CHECK(vt[i].raw.find(nlohmann::json::parse(vj[i].raw)["msg"].get<std::string>()) != std::string::npos);
    } else {
      CHECK(vt[i].raw == vj[i].raw);
    }
  }
  check_causal(vt, "server.log");
}

TEST_CASE("follow --trace-id over the client's JSON log and the server's records as journalctl -o json", "[trace_procs]") {
  const run_result peers = run_peers("follow_journal");
  const std::string client = peers.dir + "/client.jsonl", journal = peers.dir + "/server.journal.json";
  const std::string id = peers.trace_ids[2];
  // The server's records with the fields journald_sink gives them and journalctl -o json prints
  // (every value a string; the program's fields upper-cased; journald's own prefixed with '_').
  {
    std::string out;
    int n = 0;
    const std::map<std::string, std::string> priority{{"TRACE", "7"}, {"DEBUG", "7"}, {"INFO", "6"},
                                                      {"WARN", "4"},  {"ERROR", "3"}, {"FATAL", "2"}};
    for (const auto& r : json_lines(peers.dir + "/server.jsonl")) {
      const long long us = micros_of(str(r, "ts"));
      nlohmann::ordered_json e;
      e["__CURSOR"] = "s=0;i=" + std::to_string(++n);
      e["__REALTIME_TIMESTAMP"] = std::to_string(us + 150);  // journald receives it a little later
      e["_BOOT_ID"] = "0123456789abcdef0123456789abcdef";
      e["PRIORITY"] = priority.at(str(r, "level"));
      e["SYSLOG_IDENTIFIER"] = "trace-peer";
      e["MESSAGE"] = str(r, "msg");
      e["CODE_FILE"] = str(r, "file");
      e["CODE_LINE"] = std::to_string(r["line"].get<unsigned>());
      e["TID"] = std::to_string(r["gid"].get<unsigned>());
      e["GIDLOG_TIME_USEC"] = std::to_string(us);
      if (r.contains("trace_id")) {
        e["TRACE_ID"] = str(r, "trace_id");
        e["SPAN_ID"] = str(r, "span_id");
        e["TRACE_FLAGS"] = str(r, "trace_flags");
      }
      if (r.contains("ctx"))
        for (const auto& [k, v] : r["ctx"].items()) {
          std::string up = k;
          for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          e[up] = v.is_string() ? v.get<std::string>() : v.dump();
        }
      e["_PID"] = std::to_string(peers.server_pid);
      out += e.dump() + "\n";
    }
    std::ofstream(journal) << out;
  }
  const std::string mark = "trace-peer[" + std::to_string(peers.server_pid) + "]";
  const result json = trace("follow --trace-id " + id + " " + trace_test::quoted(client) + " " + trace_test::quoted(peers.dir + "/server.jsonl"), "procs_journal_json");
  const result jr = trace("follow --trace-id " + id + " " + trace_test::quoted(client) + " " + trace_test::quoted(journal), "procs_journal");
  INFO(jr.err);
  REQUIRE(jr.status == 0);
  const auto vj = parse_follow(json.out), vr = parse_follow(jr.out);
  REQUIRE(vr.size() == vj.size());
  for (std::size_t i = 0; i < vr.size(); ++i) {
    INFO(vr[i].raw);
    CHECK(vr[i].depth == vj[i].depth);  // the pool's hops are read from the journal too
    CHECK(vr[i].mark == (vj[i].mark == "server.jsonl" ? mark : vj[i].mark));
    if (vr[i].mark == mark)
      CHECK(nlohmann::json::parse(vr[i].raw)["MESSAGE"] == nlohmann::json::parse(vj[i].raw)["msg"]);
  }
  check_causal(vr, "trace-peer[");
  // A journal read alone is still marked: one journal holds many processes.
  const result alone = trace("follow --trace-id " + id + " " + trace_test::quoted(journal), "procs_journal_alone");
  REQUIRE(alone.status == 0);
  for (const out_line& l : parse_follow(alone.out)) CHECK(l.mark == mark);
}

// The same with the server's records read back from a real systemd-journald (a private one, as
// the journald sink's tests run it): what journald_sink sent, as journalctl -o json prints it.
// Catches: a field journald_sink names differently from what gidlog-trace reads (TID, CODE_*,
// GIDLOG_TIME_USEC, TRACE_ID), a value journald stores in another form, hop records not found
// at journald's priorities.
TEST_CASE("follow --trace-id over the client's JSON log and the server's journal from a real journald", "[trace_procs]") {
  gidlog_test::journald_daemon journald;
  const run_result peers = run_peers("follow_real_journal", journald.socket());
  journald.sync();
  const std::string journal = peers.dir + "/server.journalctl.json";
  std::ofstream(journal) << journald.journalctl({"-o", "json", "SYSLOG_IDENTIFIER=trace-peer"});
  const std::string client = peers.dir + "/client.jsonl";
  const std::string mark = "trace-peer[" + std::to_string(peers.server_pid) + "]";
  for (const std::string& id : peers.trace_ids) {
    const result json = trace("follow --trace-id " + id + " " + trace_test::quoted(client) + " " +
                                  trace_test::quoted(peers.dir + "/server.jsonl"),
                              "procs_real_journal_json");
    const result jr = trace("follow --trace-id " + id + " " + trace_test::quoted(client) + " " + trace_test::quoted(journal),
                            "procs_real_journal");
    INFO(jr.err);
    REQUIRE(json.status == 0);
    REQUIRE(jr.status == 0);
    const auto vj = parse_follow(json.out), vr = parse_follow(jr.out);
    // The server's records of this trace in its own JSON log, independently of gidlog-trace.
    const auto server_records = trace_records(peers.dir + "/server.jsonl", id);
    REQUIRE(server_records.size() >= 3);
    std::size_t from_journal = 0;
    for (const out_line& l : vr) from_journal += l.mark == mark;
    CHECK(from_journal >= server_records.size());  // plus the db pool's hop records
    REQUIRE(vr.size() == vj.size());
    for (std::size_t i = 0; i < vr.size(); ++i) {
      INFO(vr[i].raw);
      CHECK(vr[i].depth == vj[i].depth);
      CHECK(vr[i].mark == (vj[i].mark == "server.jsonl" ? mark : vj[i].mark));
      if (vr[i].mark == mark) {
        const auto e = nlohmann::json::parse(vr[i].raw), j = nlohmann::json::parse(vj[i].raw);
        CHECK(e["MESSAGE"] == j["msg"]);
        CHECK(e["TRACE_ID"] == id);
        CHECK(e["TID"] == std::to_string(j["gid"].get<unsigned>()));
      }
    }
    check_causal(vr, "trace-peer[");
  }
}

TEST_CASE("timeline draws a group of lanes per process and the call from the client to the server", "[trace_procs]") {
  const run_result peers = run_peers("timeline");
  const std::string client = peers.dir + "/client.jsonl", server = peers.dir + "/server.jsonl";
  const std::string trace_json = peers.dir + "/trace.json", page = peers.dir + "/timeline.html";
  const result r = trace("timeline --out " + trace_test::quoted(trace_json) + " --html " + trace_test::quoted(page) + " " + trace_test::quoted(client) + " " + trace_test::quoted(server),
                         "procs_timeline");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("2 processes") != std::string::npos);
  CHECK(r.err.find("(" + std::to_string(requests) + " between processes)") != std::string::npos);

  // Where each request's call left the client and arrived at the server, from the logs: the
  // client's "calling" record (its span is the server handler's parent) and the handler's first.
  struct call {
    std::string span;
    unsigned client_gid = 0, server_gid = 0;
  };
  std::map<std::string, call> calls;  // by the client's span
  for (const auto& rec : json_lines(client))
    if (str(rec, "msg").rfind("calling GET", 0) == 0) calls[str(rec, "span_id")] = {str(rec, "span_id"), rec["gid"].get<unsigned>(), 0};
  for (const auto& rec : json_lines(server))
    if (str(rec, "msg").find("received") != std::string::npos) {
      REQUIRE(rec.contains("ctx"));
      const std::string parent = rec["ctx"]["parent_span_id"];
      REQUIRE(calls.count(parent) == 1);
      calls[parent].server_gid = rec["gid"].get<unsigned>();
    }
  REQUIRE(calls.size() == requests);

  // Trace Event JSON: a pid per process, named by its file; one "traceparent" flow per request,
  // from the client's pid and the calling gid to the server's pid and the handler's gid.
  const auto t = nlohmann::json::parse(slurp(trace_json));
  std::map<int, std::string> process_names;
  std::map<std::uint64_t, nlohmann::json> starts, finishes;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") process_names[e["pid"]] = e["args"]["name"];
    if (e.value("cat", "") != "trace") continue;
    if (e["ph"] == "s") starts[e["id"]] = e;
    if (e["ph"] == "f") finishes[e["id"]] = e;
  }
  REQUIRE(process_names.size() == 2);
  int client_pid = 0, server_pid = 0;
  for (const auto& [pid, name] : process_names) (name == "client.jsonl" ? client_pid : server_pid) = pid;
  CHECK(process_names[server_pid] == "server.jsonl");
  REQUIRE(starts.size() == requests);
  REQUIRE(finishes.size() == requests);
  std::multiset<std::pair<unsigned, unsigned>> want, seen;
  for (const auto& [span, c] : calls) want.insert({c.client_gid, c.server_gid});
  for (const auto& [id, s] : starts) {
    REQUIRE(finishes.count(id) == 1);
    const auto& f = finishes[id];
    CHECK(s["pid"] == client_pid);
    CHECK(f["pid"] == server_pid);
    CHECK(s["ts"].get<double>() <= f["ts"].get<double>());
    seen.insert({s["tid"].get<unsigned>(), f["tid"].get<unsigned>()});
  }
  CHECK(seen == want);

  // The page's data: the lanes grouped by process under a header row each, the remote flows
  // between the two groups.
  const std::string html = slurp(page);
  const std::string open_tag = "<script type=\"application/json\" id=\"data\">";
  const std::size_t at = html.find(open_tag);
  REQUIRE(at != std::string::npos);
  const std::size_t from = at + open_tag.size();
  const auto d = nlohmann::json::parse(html.substr(from, html.find("</script>", from) - from));
  REQUIRE(d["processes"].size() == 2);
  std::size_t remote = 0;
  for (const auto& f : d["flows"]) {
    if (f[4] != 1) continue;
    ++remote;
    CHECK(d["lanes"][f[0].get<std::size_t>()]["process"] == "client.jsonl");
    CHECK(d["lanes"][f[2].get<std::size_t>()]["process"] == "server.jsonl");
  }
  CHECK(remote == requests);
  std::set<std::size_t> rows;
  for (const auto& p : d["processes"]) rows.insert(p["row"].get<std::size_t>());
  for (const auto& l : d["lanes"]) {
    CHECK(rows.insert(l["row"].get<std::size_t>()).second);  // no two rows drawn on each other
    const auto& group = d["processes"][0]["name"] == l["process"] ? d["processes"][0] : d["processes"][1];
    const std::size_t header = group["row"].get<std::size_t>();
    CHECK(l["row"].get<std::size_t>() > header);
  }

  // Drawn by a real browser: the two groups, a lane per (process, gid), the remote arrows.
  const char* found = nullptr;
  for (const char* b : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::system((std::string("test -x ") + b).c_str()) == 0) found = b;
  if (found == nullptr)
    FAIL("chromium is not installed: apt-get install chromium (./dev.sh test installs it); the page cannot be checked");
  const result dom = run(std::string(found) + " --headless --no-sandbox --disable-gpu --user-data-dir=" +
                             trace_test::quoted(peers.dir + "/chromium-profile") + " --virtual-time-budget=2000 --dump-dom " +
                             trace_test::quoted("file://" + page),
                         "procs_chromium_dom");
  REQUIRE(dom.status == 0);
  std::set<std::string> groups;
  const std::regex group_re(R"re(<g class="process" data-process="([^"]+)")re");
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), group_re); it != std::sregex_iterator(); ++it)
    groups.insert((*it)[1]);
  CHECK(groups == std::set<std::string>{"client.jsonl", "server.jsonl"});
  std::size_t lanes = 0;
  const std::regex lane_re(R"re(<g class="lane" data-gid="\d+" data-process="(client|server)\.jsonl")re");
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), lane_re); it != std::sregex_iterator(); ++it) ++lanes;
  CHECK(lanes == d["lanes"].size());
  std::size_t arrows = 0;
  for (std::size_t p = dom.out.find("class=\"flow remote\""); p != std::string::npos; p = dom.out.find("class=\"flow remote\"", p + 1)) ++arrows;
  CHECK(arrows == requests);
  CHECK(dom.out.find("data-processes=\"2\"") != std::string::npos);
  CHECK(dom.out.find("data-remote-flows=\"" + std::to_string(requests) + "\"") != std::string::npos);

  // --trace-id draws that request alone: one remote flow.
  const result one = trace("timeline --trace-id " + peers.trace_ids[0] + " --html " + trace_test::quoted(peers.dir + "/one.html") + " " +
                               trace_test::quoted(client) + " " + trace_test::quoted(server),
                           "procs_timeline_one");
  REQUIRE(one.status == 0);
  CHECK(one.err.find("(1 between processes)") != std::string::npos);
}
