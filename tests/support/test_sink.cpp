#include "test_sink.h"

#include <stdexcept>

namespace gidlog_test {

void test_sink::write(const gidlog::log_line& line) {
  attempts_.fetch_add(1);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !stalled_; });
  if (fail_ > 0) {
    --fail_;
    throw std::runtime_error("injected failure");
  }
  std::string_view t = line.text;
  if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
  lines_.emplace_back(t);
}

void test_sink::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  ++flushes_;
}

std::vector<std::string> test_sink::lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

std::size_t test_sink::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_.size();
}

std::size_t test_sink::flushes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return flushes_;
}

void test_sink::fail_next(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_ = n;
}

void test_sink::stall() {
  std::lock_guard<std::mutex> lock(mu_);
  stalled_ = true;
}

void test_sink::release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stalled_ = false;
  }
  cv_.notify_all();
}

}  // namespace gidlog_test
