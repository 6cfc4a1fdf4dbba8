#pragma once
// The compressor thread ("gidlog-compress"): one per process, started by the first rotated file
// to compress, stopped by gidlog::stop() and at exit. It runs rotated_files::compress_all() for
// each sink queued, one at a time, so the backend never waits for a compression.
#include <chrono>
#include <memory>
#include <mutex>

namespace gidlog {
inline namespace v0 {
namespace detail {

class rotated_files;

// A compressing sink's open() (start()): compress_later() accepts work from now until
// compressor_stop(). The thread starts with the first work.
void compressor_open() noexcept;

// Queues `files` (once: a sink already queued is not queued twice). False when the compressor is
// stopped (after stop(), until a sink's open()) or its thread cannot be started: the caller prunes
// by itself and the files wait, uncompressed, for the next start().
bool compress_later(const std::shared_ptr<rotated_files>& files) noexcept;

// gidlog::stop(), exit: waits until every queued compression is done, at most `timeout` (0: no
// limit), then cancels the one under way (its file stays uncompressed) and joins the thread.
void compressor_stop(std::chrono::milliseconds timeout) noexcept;

// Held by the compressor thread around its renames and deletions (with the sink's lock), and by
// fork() across the fork, so a child never inherits a sink's lock held by a thread it lacks.
std::mutex& compressor_fork_gate() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
