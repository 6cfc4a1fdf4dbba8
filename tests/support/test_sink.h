#pragma once
// A sink for tests: records every line, and can be told to fail or to stall.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gidlog/sinks/sink.h>

namespace gidlog_test {

class test_sink final : public gidlog::sink {
 public:
  void write(const gidlog::log_line& line) override;
  void flush() override;

  // Lines taken so far, each without its trailing '\n'.
  std::vector<std::string> lines() const;
  std::vector<gidlog::log_line> views() const = delete;  // views die with the call
  std::size_t count() const;
  std::size_t flushes() const;

  // The next `n` write() calls throw std::runtime_error("injected failure").
  void fail_next(int n);
  // write() blocks until release() while stalled.
  void stall();
  void release();
  std::uint64_t attempts() const { return attempts_.load(); }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::size_t flushes_ = 0;
  int fail_ = 0;
  bool stalled_ = false;
  std::atomic<std::uint64_t> attempts_{0};
};

}  // namespace gidlog_test
