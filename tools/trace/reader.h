#pragma once
// Streaming input: files (rotated sets oldest first, .gz by their magic bytes) or stdin, cut into
// lines in a fixed buffer, each parsed as a JSON line or a text line of the pattern. Bad lines are
// reported on stderr with file and line number, counted and skipped; nothing else stops a scan.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json_parser.h"
#include "record.h"
#include "text_parser.h"

namespace gidlog_trace {

struct reader_options {
  std::string pattern = "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v%C";  // options::pattern's default
  std::size_t max_line = std::size_t{1} << 20;  // longer lines are reported and skipped
  bool rotated = true;                           // app.log also reads app.N.log .. app.1.log first
  int year = 0;                                  // for patterns without %Y; 0: this year
  std::size_t max_reports = 20;                  // bad lines described on stderr; the rest counted
  std::FILE* errors = stderr;
};

// The files a path stands for, oldest first: "app.log" -> app.3.log app.2.log app.1.log app.log
// when those exist (each also as .gz), the numbering of rotating_file_sink and json_sink.
std::vector<std::string> expand_rotated(const std::string& path);

struct scan_stats {
  std::uint64_t lines = 0;    // lines read, good and bad
  std::uint64_t records = 0;  // lines parsed into records
  std::uint64_t text_records = 0;          // ... of them text lines (the others JSON)
  std::uint64_t text_with_context = 0;     // ... text lines with context pairs (%C)
  std::uint64_t bad = 0;      // lines reported and skipped
  bool open_failed = false;   // a file could not be opened or read
};

class scanner {
 public:
  explicit scanner(reader_options opt);
  ~scanner();

  // Reads every path ("-" is stdin; no path: stdin) and calls on_record for each good record, in
  // file order. Returns what was read; bad lines were reported as they came.
  scan_stats run(const std::vector<std::string>& paths, const std::function<void(const record&)>& on_record);

  // Whether the text pattern has %C (context pairs after the message).
  bool text_has_context() const noexcept { return text_.has_context(); }

  // The names of the files read, by record::source.
  const std::vector<std::string>& sources() const noexcept { return names_; }

  // Which input (the index of its path in run()'s `paths`) a record's file belongs to: the parts
  // of a rotated set belong to the set's path.
  std::uint32_t input_of(const record& r) const noexcept { return r.source < input_of_.size() ? input_of_[r.source] : 0; }
  // The name gidlog-trace marks a record's process with when it reads several processes' logs:
  // the record's own (journald: SYSLOG_IDENTIFIER[_PID]) or else its input's file name without
  // the directory ("client.jsonl"; "<stdin>"). Spaces become '_', so a mark is one word.
  std::string process_of(const record& r) const;
  // How many inputs run() was given (a rotated set counts once; none: stdin, one).
  std::size_t inputs() const noexcept { return input_names_.size(); }

 private:
  void read_one(const std::string& name, int fd, const std::function<void(const record&)>& on_record);
  void bad_line(std::uint64_t line_no, std::string_view why, std::string_view line);

  reader_options opt_;
  text_parser text_;
  json_parser json_;
  std::vector<std::string> names_;
  std::vector<std::uint32_t> input_of_;     // by record::source
  std::vector<std::string> input_names_;    // by input: the file name, without its directory
  std::uint32_t input_ = 0;                 // the input being read
  std::vector<char> buf_;
  record rec_;
  scan_stats stats_;
  std::uint64_t bad_in_file_ = 0;
};

}  // namespace gidlog_trace
