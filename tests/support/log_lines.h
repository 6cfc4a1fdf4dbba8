#pragma once
// Reads gidlog's text log lines back in the tests: the lines a child left in its file or on its
// stderr (child_process.h), or any file written with the default pattern. Runs on the test thread.
//
//   auto log = gidlog_test::read_log(path);
//   for (const gidlog_test::log_record& l : log)
//     if (l.is_record && l.level == "FATAL") ...
//   INFO("last lines:\n" << gidlog_test::tail_of(log));
#include <sstream>
#include <string>
#include <vector>

#include "log_capture.h"

namespace gidlog_test {

// One line of a log written with the default pattern "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v".
// Lines that do not start a record (a multi-line message's later lines, a torn write) have
// `is_record` false and the whole line in `text`.
struct log_record {
  bool is_record = false;
  std::string level;  // "INFO", "FATAL", ...
  unsigned long gid = 0;
  std::string site;  // "file:line"
  std::string message;
  std::string text;  // the whole line
};

// Parses one line; written by hand because the files hold up to millions of lines.
inline log_record parse_log_line(const std::string& line) {
  log_record r;
  r.text = line;
  auto digits = [&line](std::size_t from, std::size_t n) {
    if (from + n > line.size()) return false;
    for (std::size_t i = from; i < from + n; ++i)
      if (line[i] < '0' || line[i] > '9') return false;
    return true;
  };
  // [MMDD/HHMMSS.mmm:
  if (line.size() < 19 || line[0] != '[' || !digits(1, 4) || line[5] != '/' || !digits(6, 6) || line[12] != '.' ||
      !digits(13, 3) || line[16] != ':')
    return r;
  std::size_t p = 17;
  std::size_t c = line.find(':', p);
  if (c == std::string::npos) return r;
  std::string level = line.substr(p, c - p);
  if (level != "TRACE" && level != "DEBUG" && level != "INFO" && level != "WARN" && level != "ERROR" && level != "FATAL")
    return r;
  p = c + 1;
  if (line.compare(p, 4, "gid-") != 0) return r;
  p += 4;
  std::size_t g = p;
  while (p < line.size() && line[p] >= '0' && line[p] <= '9') ++p;
  if (p == g || p - g > 10 || p >= line.size() || line[p] != ':') return r;
  unsigned long gid = std::stoul(line.substr(g, p - g));
  std::size_t close = line.find("] ", p);
  if (close == std::string::npos) return r;
  r.site = line.substr(p + 1, close - p - 1);
  r.message = line.substr(close + 2);
  r.level = std::move(level);
  r.gid = gid;
  r.is_record = true;
  return r;
}

inline std::vector<log_record> parse_log_text(const std::string& text) {
  std::vector<log_record> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(parse_log_line(line));
  return out;
}

inline std::vector<log_record> read_log(const std::string& path) { return parse_log_text(read_file(path)); }

// The last `n` lines of a parsed log, for failure messages.
inline std::string tail_of(const std::vector<log_record>& log, std::size_t n = 15) {
  std::string s;
  for (std::size_t i = log.size() > n ? log.size() - n : 0; i < log.size(); ++i) s += log[i].text + "\n";
  return s;
}

}  // namespace gidlog_test
