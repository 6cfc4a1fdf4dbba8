#pragma once
// One log record as gidlog-trace sees it, whichever format it came from. The string views point
// into the reader's buffer (text) or the JSON parser's string buffer: valid until the next line is
// parsed, so whatever is kept past that is copied (kept_record).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gidlog_trace {

enum class level : std::uint8_t { trace, debug, info, warn, error, fatal, unknown };

std::string_view level_name(level l) noexcept;
// "TRACE".."FATAL", a single letter "T".."F", or lower case; unknown when none of those.
level parse_level(std::string_view s) noexcept;

// A context field or named field, as text ("r-42", "7", "true").
struct field_view {
  std::string_view key;
  std::string_view value;
};

struct record {
  std::int64_t time_ns = 0;  // see time_key() in text_parser.h; 0 when the line has no time
  bool has_time = false;
  std::int64_t resolution_ns = 1;  // how finely the line gave its time (%e: 1 ms)
  level lvl = level::unknown;
  std::uint32_t gid = 0;
  bool has_gid = false;
  std::string_view file;
  std::uint32_t line = 0;
  std::string_view func;
  std::string_view logger;
  std::string_view msg;
  std::vector<field_view> ctx;     // context fields (text: the trailing logfmt pairs of %C)
  std::vector<field_view> fields;  // named message fields (JSON only)
  std::string_view raw;            // the whole input line, without its '\n'
  std::uint64_t line_no = 0;       // 1-based, within its file
  std::uint32_t source = 0;        // index of the file it came from
  // The process that wrote it, when the line names one (journald's SYSLOG_IDENTIFIER[_PID]);
  // empty for text and json_sink lines: scanner::process_of() then names the input.
  std::string_view process;

  void clear() {
    time_ns = 0;
    has_time = false;
    resolution_ns = 1;
    lvl = level::unknown;
    gid = 0;
    has_gid = false;
    file = func = logger = msg = raw = process = {};
    line = 0;
    ctx.clear();
    fields.clear();
  }
  // The value of a context field, or of a named field (JSON); nullptr when absent.
  const std::string_view* find(std::string_view key) const noexcept {
    for (const field_view& f : ctx)
      if (f.key == key) return &f.value;
    for (const field_view& f : fields)
      if (f.key == key) return &f.value;
    return nullptr;
  }
};

// A record copied out of the reader's buffers, for the matches a command keeps.
struct kept_record {
  std::int64_t time_ns = 0;
  level lvl = level::unknown;
  std::uint32_t gid = 0;
  std::string file;
  std::uint32_t line = 0;
  std::string msg;
  std::string raw;
  std::vector<std::pair<std::string, std::string>> ctx;

  static kept_record of(const record& r) {
    kept_record k{r.time_ns, r.lvl, r.gid, std::string(r.file), r.line, std::string(r.msg), std::string(r.raw), {}};
    for (const field_view& f : r.ctx) k.ctx.emplace_back(std::string(f.key), std::string(f.value));
    return k;
  }
};

}  // namespace gidlog_trace
