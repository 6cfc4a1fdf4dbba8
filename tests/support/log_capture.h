#pragma once
// Helpers for integration tests: start the logger on a test_sink, read files, parse lines.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "test_sink.h"

namespace gidlog_test {

// Starts the logger on a fresh test_sink (plus `extra` options) and stops it on destruction.
struct logger_session {
  std::shared_ptr<test_sink> sink = std::make_shared<test_sink>();
  explicit logger_session(gidlog::options opt = {}) {
    opt.sinks.insert(opt.sinks.begin(), sink);
    gidlog::start(opt);
  }
  ~logger_session() { gidlog::stop(); }
  std::vector<std::string> lines() {
    gidlog::flush();
    return sink->lines();
  }
};

// logger_session with options::pattern set (e.g. "%v" or "%n %l %v" for lines easy to compare).
struct pattern_session : logger_session {
  explicit pattern_session(const std::string& pattern, gidlog::options opt = {})
      : logger_session([&] {
          opt.pattern = pattern;
          return opt;
        }()) {}
};

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A path under the build tree's temp directory, unique per test process.
inline std::string temp_path(const std::string& name) {
  return "/tmp/gidlog_test_" + std::to_string(::getpid()) + "_" + name;
}

// Starts the logger on a truncated file_sink at temp_path(name) (plus `opt`); stop_and_read()
// stops it and returns the file's lines, removing the file.
struct file_session {
  std::string path;
  explicit file_session(const std::string& name, gidlog::options opt = {}) : path(temp_path(name)) {
    opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
    gidlog::start(opt);
  }
  std::vector<std::string> stop_and_read() {
    gidlog::stop();
    std::vector<std::string> lines = read_lines(path);
    std::filesystem::remove(path);
    return lines;
  }
};

}  // namespace gidlog_test
