#pragma once
// Running gidlog-trace from the tests and reading what the log generator wrote.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trace_test {

inline const std::string tool = GIDLOG_TRACE_TOOL;  // the built gidlog-trace
inline const std::string logs = GIDLOG_TRACE_LOGS;  // where trace_log_gen wrote (ctest fixture)
inline const std::string text_pattern = "%Y-%m-%dT%H:%M:%S.%f%z %l gid-%t %s:%# %v%C";

struct result {
  int status = -1;  // exit status, or -1 when it did not exit normally (a crash)
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

inline std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs a shell command line with stdout and stderr to files under the logs directory.
inline result run(const std::string& cmd, const std::string& tag) {
  const std::string out = logs + "/" + tag + ".out", err = logs + "/" + tag + ".err";
  const int st = std::system((cmd + " >" + quoted(out) + " 2>" + quoted(err)).c_str());
  result r;
  r.status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

inline result trace(const std::string& args, const std::string& tag) {
  return run(quoted(tool) + " " + args, tag);
}

inline std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

// Every record of the JSON-lines copy.
inline std::vector<nlohmann::json> json_records() {
  std::vector<nlohmann::json> v;
  for (const std::string& l : lines(slurp(logs + "/app.jsonl"))) v.push_back(nlohmann::json::parse(l));
  return v;
}

inline std::string ctx_of(const nlohmann::json& r, const std::string& key) {
  if (!r.contains("ctx") || !r["ctx"].contains(key)) return "";
  return r["ctx"][key].get<std::string>();
}

}  // namespace trace_test
