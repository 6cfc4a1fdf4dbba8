#pragma once
// Deadlines that a test needs a woken thread to beat, and wait_until(), a poll with a deadline.
// Example: run_for() must find its job
// already running on the worker when the deadline passes, so the worker has to wake up and take
// the job within that time. Natively that takes microseconds. Under qemu-user (the aarch64 cross
// build) on a loaded 2-core machine, a thread has been seen to need more than 5 ms. Then the job
// timed out while still queued, and the test failed for a reason that says nothing about the code.
//
// GIDLOG_TEST_TIME_SCALE (an integer >= 1, default 1) multiplies such deadlines. Only programs run
// under qemu see it: cmake/toolchains/aarch64-linux-gnu.cmake adds it to the emulator's command
// line. It changes only how long a deadline is, never what a test asserts. Outcomes that are
// decided by latches or futures are not scaled.
#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

namespace gidlog_test {

inline int time_scale() {
  static const int scale = [] {
    const char* env = std::getenv("GIDLOG_TEST_TIME_SCALE");
    const long v = env != nullptr ? std::strtol(env, nullptr, 10) : 1;
    return v >= 1 && v <= 1000 ? static_cast<int>(v) : 1;
  }();
  return scale;
}

// `d` times GIDLOG_TEST_TIME_SCALE: a deadline that a thread's wake-up has to beat.
template <class Rep, class Period>
std::chrono::duration<Rep, Period> wakeup_deadline(std::chrono::duration<Rep, Period> d) {
  return d * time_scale();
}

// Polls `done` until it holds or `deadline` passes; true if it held. For a condition nothing
// signals (a file appearing, a dump written), with a deadline so a test that fails ends.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace gidlog_test
