#pragma once
// Reading json_sink lines (include/gidlog/sinks/json.h: ts, level, gid, trace_id, span_id,
// trace_flags, file, line, func, logger, msg, tmpl, the named fields, ctx) back into records, with
// simdjson's on-demand parser; and the entries of `journalctl -o json` (MESSAGE, PRIORITY, TID,
// CODE_FILE, CODE_LINE, CODE_FUNC, GIDLOG_TIME_USEC or __REALTIME_TIMESTAMP, SYSLOG_IDENTIFIER,
// _PID, and the program's own fields, lower-cased into the context: TRACE_ID -> trace_id).
// The trace context (json_sink's top-level trace_id, span_id, trace_flags) goes into record::ctx.
#include <memory>
#include <string_view>

#include "record.h"

namespace gidlog_trace {

class json_parser {
 public:
  json_parser();
  ~json_parser();
  json_parser(const json_parser&) = delete;
  json_parser& operator=(const json_parser&) = delete;

  // line must stay readable for `padding()` bytes past its end (the reader's buffers are); the
  // record's views are valid until the next call. On failure: false and why (static text).
  bool parse(std::string_view line, record& r, const char*& why);

  static std::size_t padding() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace gidlog_trace
