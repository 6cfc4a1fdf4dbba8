#pragma once
// rotating_file_sink: a text file that rotates by size and/or time of day, keeps a bounded run of
// old files, and can gzip them off the backend thread (rotation, compression).
//
//   opt.sinks = {gidlog::rotating_file_sink("app.log", gidlog::rotation{.max_bytes = 64 << 20, .max_files = 8})};
//
// It makes missing parent directories, buffers, fails, retries, reopens and behaves in a fork()
// child exactly as file_sink (<gidlog/sinks/file.h>) does: a write(2) error (disk full, a rename
// that fails during a rotation) is thrown from write() or flush(), the backend keeps the lines and
// retries (options::sink_backlog_bytes), and writing resumes where it stopped, so no line is lost
// or written twice. gidlog::reopen() and options::reopen_check reopen the path after an outside
// tool moved the file away. json_sink (<gidlog/sinks/json.h>) rotates by the same `rotation`.
// Threading: like every sink, called by the backend thread only (and by the synchronous paths
// under the writer lock); compression runs on a thread of its own (below).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <gidlog/sinks/file.h>

namespace gidlog {
inline namespace v0 {

// When a file rotates, and how many old files it keeps. At least one of max_bytes and daily_at
// must be set.
//
// Names: the live file keeps its path ("app.log"); a rotation renames it to "app.1.log" (the
// newest rotated file), after renaming "app.1.log" to "app.2.log" and so on, up to
// "app.<max_files>.log": the oldest, which the next rotation deletes. The number goes before the
// last extension of the file name ("app.jsonl" -> "app.1.jsonl"), or at the end when the name has
// none ("app" -> "app.1"). A compressed rotated file adds ".gz" ("app.2.log.gz") and keeps its
// number. Only the run "app.1.log", "app.2.log.gz", ... without a gap is shifted: a file beyond a
// missing number is left alone until the run reaches it.
//
// The live file is renamed, never copied or truncated, and then the path is opened anew, so a
// reader that holds the old file open (`tail -f`) reads it to its end, and `tail -F` (follow by
// name) moves on to the new file. Lines buffered before a rotation are written to the old file
// first: every line is in exactly one file, and the files hold the lines in order (the highest
// number the oldest).
//
// A file is rotated only by the process that writes it: when the path no longer names the file
// this sink has open (another process or logrotate moved it), the sink reopens the path instead
// of rotating it again.
//
// Compression (compress = compression::gzip): each rotated file is compressed by one gidlog
// thread ("gidlog-compress", started at the first rotated file to compress, stopped by stop() and
// at exit), never by the backend, so a record never waits for it. It writes "app.1.log.gz.tmp"
// (the path + ".gz.tmp", one at a time per sink), fsyncs it, gives it the rotated file's mtime,
// renames it to "app.1.log.gz" (wherever the run has shifted that file meanwhile), then deletes
// "app.1.log". A crash or kill at any step leaves the whole uncompressed file, or the whole
// compressed one (never a truncated .gz as the only copy); start() deletes a leftover .tmp and
// the thread compresses the rotated files a crash, a stop() that ran out of options::stop_timeout,
// or a rotation after stop() left uncompressed. stop() waits for the compressions queued, at most
// options::stop_timeout. A compression that fails (disk full) is reported on stderr, counted in
// get_counters().sink_errors, and retried at the next rotation or start(); the file stays
// uncompressed meanwhile.
//
// Retention: after each rotation (and at start()), the oldest rotated files are deleted while
// there are more than max_files, while they are older than max_age (by mtime: the time their last
// line was written), and while the rotated files together take more than max_total_bytes (their
// sizes on disk). With compression, the compressor thread also prunes after each file it
// compresses, and a rotated file still waiting for it is not counted in max_total_bytes (by its
// plain size it could be deleted unread where the limit is below max_bytes); it counts once it is
// a .gz. The live file does not count either, so the files of a sink take at most
// max_total_bytes + max_bytes + the files waiting for gzip: one while gzip keeps up, more while
// the backend rotates faster than the compressor (at nice +10) runs, and those a stop() out of
// stop_timeout leaves for the next start(). Files are deleted oldest first, so the run never has
// a gap.
enum class compression : std::uint8_t {
  none,  // rotated files stay as written
  gzip,  // "app.1.log.gz", zlib's default level (6): what `gzip` writes; gunzip, zcat, gidlog-trace read it
};

struct rotation {
  // Rotate before a line would make the live file larger than this many bytes; 0: never by size.
  // A line is never split: a line longer than max_bytes goes into a file of its own.
  std::uint64_t max_bytes = 0;
  // How many rotated files to keep, besides the live one: 1 to 100000.
  std::size_t max_files = 8;
  // Rotate once a day at this local time of day (time since midnight, 0 to 23:59; e.g.
  // std::chrono::hours{3}), judged by the time stamp of the records: the first record stamped at
  // or after the boundary starts the new file. A non-empty file found at start whose last change
  // was before the latest boundary is rotated before the first record. Local time follows TZ and
  // daylight saving time (a boundary that a DST change skips falls at the first time after it).
  std::optional<std::chrono::minutes> daily_at{};
  // Compress each rotated file, off the backend thread (see above).
  compression compress = compression::none;
  // Delete the oldest rotated files while they take more than this many bytes together; 0: no
  // limit. Without compression it must be at least max_bytes (or no rotated file would be kept).
  std::uint64_t max_total_bytes = 0;
  // Delete rotated files last written longer ago than this; 0: no limit; not negative.
  std::chrono::seconds max_age{0};
};

// A text file like file_sink (the line per options::pattern) that rotates per `r`. Invalid
// rotation fields are reported by gidlog::start() as std::invalid_argument naming the sink and
// the field. file_sink_options::truncate empties the live file at the first start() only.
sink_ptr rotating_file_sink(std::string path, rotation r, file_sink_options opts = {});

}  // namespace v0
}  // namespace gidlog
