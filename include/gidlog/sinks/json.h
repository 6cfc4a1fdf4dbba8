#pragma once
// json_sink: JSON lines (https://jsonlines.org), one object per record with each argument and
// context field as a key of its own, in one file that grows or rotates like rotating_file_sink.
//
//   opt.sinks = {gidlog::json_sink("app.jsonl", {.rotation = gidlog::rotation{.daily_at = std::chrono::hours{3}}})};
//
// It makes missing parent directories, buffers, fails, retries, reopens and behaves in a fork()
// child exactly as file_sink (<gidlog/sinks/file.h>) does: a write(2) error is thrown from write()
// or flush(), the backend keeps the lines and retries (options::sink_backlog_bytes), and writing
// resumes where it stopped, so no line is lost or written twice. Threading: like every sink,
// called by the backend thread only (and by the synchronous paths under the writer lock).
#include <optional>
#include <string>

#include <gidlog/sinks/file.h>
#include <gidlog/sinks/rotating_file.h>

namespace gidlog {
inline namespace v0 {

struct json_sink_options {
  file_sink_options file{};                // buffering, truncate, fsync: as for file_sink
  std::optional<gidlog::rotation> rotation{};  // none: one file that grows, like file_sink
};

// JSON lines (https://jsonlines.org): one object per record, one record per line, e.g.
//
//   {"ts":"2026-11-30T09:15:02.117503211Z","level":"INFO","gid":4711,"file":"auth.cpp","line":12,
//    "func":"login","logger":"main","msg":"login alice from 10.0.0.1 took 3.2 ms",
//    "tmpl":"login {user} from {ip} took {ms:.1f} ms","user":"alice","ip":"10.0.0.1","ms":3.2,
//    "ctx":{"req":"r-42"}}
//
// Keys, in this order:
//   ts      RFC 3339 time in UTC with nanoseconds and "Z", whatever options::utc says
//   level   "TRACE" "DEBUG" "INFO" "WARN" "ERROR" "FATAL"
//   gid     the logging thread's TID (number)
//   trace_id, span_id, trace_flags   only under a trace context (<gidlog/trace_context.h>):
//           the context fields of these names, lifted out of ctx to the top level as
//           OpenTelemetry's log data model names them; parent_span_id stays in ctx
//   file, line, func, logger   the call site: file base name, line number, function, logger name
//   msg     the formatted message, as the text sinks show it
//   tmpl    the format string as written, names included (same call site, same tmpl)
//   then each argument as "name": value, in order: the placeholder's name, or arg0, arg1, ... for
//           "{}". Integers are JSON numbers. Floating-point values are JSON numbers in the
//           shortest form that reads back as the same double, always with a '.' or an exponent
//           ("3.0", never "3", which parsers read as an integer), in fixed notation from 1e-6 to
//           below 1e21 and with an exponent outside ("1e+21", "2.5e-7"), as JavaScript writes
//           numbers; NaN and the infinities, which JSON numbers cannot hold, are the strings
//           "NaN", "Infinity" and "-Infinity". bool is true/false; strings, chars, pointers and
//           user types are strings. No argument keys when the message was formatted on the
//           calling thread (log_line::fields is empty).
//   ctx     the thread's context_scope fields as an object, only when there are any (keys
//           already used in it get "f_" in front as below, the fixed keys are free there)
//
// Key clashes: an argument whose name equals one of the keys above (trace_id, span_id and
// trace_flags included, with or without a trace context), or the name of an earlier
// argument, is written as "f_" + name, repeated until the key is unused ({msg} -> "f_msg"), so
// an object never has two equal keys.
//
// Escaping: '"', '\\' and the control characters U+0000-U+001F are escaped (\n \t \r \b \f, and
// \u00XX for the others); valid UTF-8 passes through as is; each byte that is not part of a valid
// UTF-8 sequence (stray continuation byte, truncated or overlong sequence, surrogate, above
// U+10FFFF) becomes \ufffd. So every line is valid JSON whatever a string holds.
//
// The sink never reads log_line::text (wants_text() is false). Buffering, errors, reopen and
// fork behave as file_sink's; with `opts.rotation` the file rotates like rotating_file_sink's.
sink_ptr json_sink(std::string path, json_sink_options opts = {});

}  // namespace v0
}  // namespace gidlog
