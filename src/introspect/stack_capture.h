#pragma once
// Stacks of other threads: each is sent a real-time signal carrying a slot number, and its
// handler writes backtrace() into that preallocated slot. Slots live for the whole process, and a
// generation in each slot's state word makes a late answer (from a thread that unblocked the
// signal long after a capture gave up on it) a no-op instead of a write into someone else's slot.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gidlog {
inline namespace v0 {
namespace detail {

struct captured_stack {
  std::uint32_t tid = 0;
  // Innermost first. frames[0] is where the thread was interrupted (an exact program counter),
  // the others are return addresses.
  std::vector<std::uintptr_t> frames;
  std::string no_stack;  // why frames is empty ("" when it is not)
  bool gone = false;     // the thread exited before it could be asked
};

// Asks every thread in `tids` for its stack and waits at most `wait` for the answers. One capture
// runs at a time in the process; callers take turns.
std::vector<captured_stack> capture_stacks(const std::vector<std::uint32_t>& tids, std::chrono::milliseconds wait);

// The signal capture_stacks uses; 0 until the first capture chose one.
int stack_request_signal() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
