#pragma once
// console_sink: lines to stdout or stderr, coloured by level on a terminal. With no sink in
// options::sinks, gidlog::start() uses one console_sink() on stdout.
//
//   opt.sinks = {gidlog::console_sink(gidlog::console_stream::err, gidlog::color_mode::never)};
//
// Buffered like the file sinks: written with write(2) when the backend flushes and when about
// 64 KiB are pending. A write error (a closed pipe is EPIPE, never SIGPIPE) keeps the unwritten
// bytes and throws std::system_error naming the stream, so the backend retries as for any sink.
// Threading: like every sink, called by the backend thread only (and by the synchronous paths
// under the writer lock).
#include <cstdint>

#include <gidlog/sinks/sink.h>

namespace gidlog {
inline namespace v0 {

enum class console_stream : std::uint8_t { out, err };
enum class color_mode : std::uint8_t { automatic, always, never };

// Writes to stdout (default) or stderr. Colours by level only when the stream is a terminal
// (color_mode::automatic) unless told otherwise.
sink_ptr console_sink(console_stream stream = console_stream::out, color_mode color = color_mode::automatic);

}  // namespace v0
}  // namespace gidlog
