// simdjson on demand: one pass over each object's members in the order json_sink writes them,
// strings unescaped into the parser's own buffer (no allocation per line once it has grown).
#include "json_parser.h"

#include <simdjson.h>

#include <deque>
#include <string>

#include "text_parser.h"

namespace gidlog_trace {

namespace od = simdjson::ondemand;

struct json_parser::impl {
  od::parser parser;
  std::string process;            // journald: "IDENT[PID]"
  std::deque<std::string> keys;   // journald: field names lower-cased (a deque does not move them)
};

json_parser::json_parser() : impl_(std::make_unique<impl>()) {}
json_parser::~json_parser() = default;

std::size_t json_parser::padding() noexcept { return simdjson::SIMDJSON_PADDING; }

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// A member's value as text: strings unescaped, numbers and literals as written, objects and
// arrays as their JSON text. An error leaves the document unusable: the caller gives up the line.
simdjson::error_code value_text(od::value v, std::string_view& out) noexcept {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  if (t == od::json_type::string) return v.get_string().get(out);
  // Nested values (not written by json_sink outside ctx) are left to the parser to skip.
  if (t == od::json_type::object) return out = "{...}", simdjson::SUCCESS;
  if (t == od::json_type::array) return out = "[...]", simdjson::SUCCESS;
  out = trim(v.raw_json_token());
  return simdjson::SUCCESS;
}

std::uint64_t digits(std::string_view text, bool& ok) noexcept {
  std::uint64_t n = 0;
  ok = !text.empty() && text.size() <= 19;
  for (char c : text) {
    if (c < '0' || c > '9') ok = false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

// syslog priorities, as journald_sink writes gidlog's levels (and any other program's).
level of_priority(std::string_view p) noexcept {
  if (p.size() != 1 || p[0] < '0' || p[0] > '7') return level::unknown;
  static constexpr level by[8] = {level::fatal, level::fatal, level::fatal, level::error,
                                  level::warn,  level::info,  level::info,  level::debug};
  return by[p[0] - '0'];
}

// A journal field that is the program's own (not journald's: those start with '_', and the
// syslog and code ones are read as such): kept as a context field, named in lower case as
// journald_sink upper-cased it (TRACE_ID -> trace_id, REQ -> req).
bool user_field(std::string_view k) noexcept {
  return !k.empty() && k[0] != '_' && !k.starts_with("SYSLOG_") && !k.starts_with("CODE_") && k != "MESSAGE" &&
         k != "PRIORITY" && k != "TID" && k != "GIDLOG_TIME_USEC" && k != "GIDLOG_LOGGER" && k != "GIDLOG_LEVEL" && k != "MESSAGE_ID" &&
         k != "INVOCATION_ID" && k != "DOCUMENTATION" && k != "ERRNO";
}

// journalctl -o json: one object per entry, upper-case field names, every value a string (an
// array when a field repeats, numbers for binary values). The time is GIDLOG_TIME_USEC (when the
// record was logged, as journald_sink writes it) or else __REALTIME_TIMESTAMP (when journald
// received it), microseconds since 1970 UTC.
bool parse_journal(od::object& obj, std::string_view line, record& r, const char*& why, std::string& process,
                   std::deque<std::string>& keys) {
  std::string_view ident, pid;
  std::int64_t realtime_us = -1, logged_us = -1;
  bool have_msg = false, named_level = false;
  keys.clear();
  for (auto member : obj) {
    od::field f;
    std::string_view key, text;
    if (std::move(member).get(f) || f.unescaped_key().get(key) || value_text(f.value(), text)) {
      why = "not valid JSON";
      return false;
    }
    bool ok = false;
    if (key == "MESSAGE") {
      r.msg = text;
      have_msg = true;
    } else if (key == "PRIORITY") {
      if (!named_level) r.lvl = of_priority(text);
    } else if (key == "GIDLOG_LEVEL") {  // the level's name, when the sink writes it: TRACE and DEBUG share priority 7
      if (const level l = parse_level(text); l != level::unknown) r.lvl = l, named_level = true;
    } else if (key == "TID") {
      const std::uint64_t g = digits(text, ok);
      r.has_gid = ok && g <= 0xffffffffu;
      r.gid = static_cast<std::uint32_t>(g);
    } else if (key == "CODE_FILE") {
      r.file = text;
    } else if (key == "CODE_LINE") {
      r.line = static_cast<std::uint32_t>(digits(text, ok));
    } else if (key == "CODE_FUNC") {
      r.func = text;
    } else if (key == "GIDLOG_LOGGER") {
      r.logger = text;
    } else if (key == "GIDLOG_TIME_USEC" || key == "__REALTIME_TIMESTAMP") {
      const auto us = static_cast<std::int64_t>(digits(text, ok));
      if (ok) (key == "GIDLOG_TIME_USEC" ? logged_us : realtime_us) = us;
    } else if (key == "SYSLOG_IDENTIFIER") {
      ident = text;
    } else if (key == "_PID") {
      pid = text;
    } else if (user_field(key)) {
      std::string& k = keys.emplace_back(key);
      for (char& c : k) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      r.ctx.push_back({k, text});
    }
  }
  const std::int64_t us = logged_us >= 0 ? logged_us : realtime_us;
  if (us < 0 || !have_msg || !r.has_gid || r.lvl == level::unknown) {
    why = "journal entry without MESSAGE, PRIORITY, TID or a time (GIDLOG_TIME_USEC, __REALTIME_TIMESTAMP)";
    return false;
  }
  r.time_ns = us * 1000;
  r.has_time = true;
  r.resolution_ns = 1000;
  std::string& p = process;
  p.assign(ident.empty() ? std::string_view("pid") : ident);
  if (!pid.empty()) p.append("[").append(pid).append("]");
  r.process = p;
  r.raw = line;
  return true;
}

}  // namespace

bool json_parser::parse(std::string_view line, record& r, const char*& why) {
  od::document doc;
  if (impl_->parser.iterate(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
    why = "not valid JSON";
    return false;
  }
  od::object obj;
  if (doc.get_object().get(obj)) {
    why = "not a JSON object";
    return false;
  }
  bool have_ts = false, have_msg = false;
  // A journal entry's first field is __CURSOR (journalctl) or another upper-case name; json_sink's
  // is "ts". Told by the bytes, before the parser walks the object.
  const std::size_t quote = line.find('"');
  if (quote != std::string_view::npos && quote + 1 < line.size() &&
      (line[quote + 1] == '_' || (line[quote + 1] >= 'A' && line[quote + 1] <= 'Z'))) {
    if (!parse_journal(obj, line, r, why, impl_->process, impl_->keys)) return false;
    const char* rest = nullptr;
    if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
      why = "text after the JSON object";
      return false;
    }
    return true;
  }
  for (auto member : obj) {
    od::field f;
    std::string_view key;
    if (std::move(member).get(f) || f.unescaped_key().get(key)) {
      why = "not valid JSON";
      return false;
    }
    od::value v = f.value();
    std::string_view text;
    simdjson::error_code err = simdjson::SUCCESS;
    if (key == "ctx") {
      od::object c;
      if ((err = v.get_object().get(c)) == simdjson::SUCCESS) {
        for (auto cm : c) {
          od::field cf;
          std::string_view ck, cv;
          if ((err = std::move(cm).get(cf)) || (err = cf.unescaped_key().get(ck)) || (err = value_text(cf.value(), cv))) break;
          r.ctx.push_back({ck, cv});
        }
      }
    } else if ((err = value_text(v, text)) == simdjson::SUCCESS) {
      if (key == "ts") {
        have_ts = parse_rfc3339(text, r.time_ns);
        r.has_time = have_ts;
      } else if (key == "level") {
        r.lvl = parse_level(text);
      } else if (key == "gid") {
        std::uint64_t g = 0;
        for (char c : text) g = c >= '0' && c <= '9' && g < 0xffffffffu ? g * 10 + static_cast<unsigned>(c - '0') : ~0ull;
        r.has_gid = !text.empty() && g <= 0xffffffffu;
        r.gid = static_cast<std::uint32_t>(g);
      } else if (key == "file") {
        r.file = text;
      } else if (key == "line") {
        std::uint32_t n = 0;
        for (char c : text) n = n * 10 + static_cast<std::uint32_t>(c >= '0' && c <= '9' ? c - '0' : 0);
        r.line = n;
      } else if (key == "func") {
        r.func = text;
      } else if (key == "logger") {
        r.logger = text;
      } else if (key == "msg") {
        r.msg = text;
        have_msg = true;
      } else if (key == "trace_id" || key == "span_id" || key == "trace_flags") {
        r.ctx.push_back({key, text});  // the trace context, which json_sink writes at the top level
      } else if (key != "tmpl") {
        r.fields.push_back({key, text});
      }
    }
    if (err) {
      why = "not valid JSON";
      return false;
    }
  }
  // Anything after the object (a second object, a cut-off line glued to the next) is an error:
  // at the end, asking where the parser stands fails with OUT_OF_BOUNDS.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    why = "text after the JSON object";
    return false;
  }
  if (!have_ts || !have_msg || !r.has_gid || r.lvl == level::unknown) {
    why = "JSON object without ts, level, gid or msg";
    return false;
  }
  r.raw = line;
  return true;
}

}  // namespace gidlog_trace
