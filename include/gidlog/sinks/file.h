#pragma once
// file_sink: lines appended to one file that grows; the base of rotating_file_sink
// (<gidlog/sinks/rotating_file.h>) and json_sink (<gidlog/sinks/json.h>), which share its options.
//
//   opt.sinks = {gidlog::file_sink("logs/app.log", {.buffer_bytes = 1 << 20})};
//
// Threading: like every sink, called by the backend thread only (and by the synchronous paths
// under the writer lock); file_sink() itself may be called from any thread.
#include <cstddef>
#include <string>

#include <gidlog/sinks/sink.h>

namespace gidlog {
inline namespace v0 {

struct file_sink_options {
  bool truncate = false;               // false: append to an existing file
  std::size_t buffer_bytes = 1 << 16;  // write(2) when this many bytes are pending; >= 1
  bool fsync_on_flush = false;         // fdatasync() on every flush (slow; for audit logs)
};

// Appends lines to `path` (created 0644 when missing, with its missing parent directories 0755,
// at open and again when a reopen finds the directory removed: file_sink("logs/app/app.log")).
// Buffered; writes on flush and when the buffer fills. On a write error the unwritten bytes stay
// buffered and write() throws std::system_error naming the file; writing resumes where it stopped
// once the error clears. An empty path or a directory that cannot be made or written is reported
// by gidlog::start() as std::invalid_argument naming options::sinks.
sink_ptr file_sink(std::string path, file_sink_options opts = {});

}  // namespace v0
}  // namespace gidlog
