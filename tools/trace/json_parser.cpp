// simdjson on demand: one pass over each object's members in the order json_sink writes them,
// strings unescaped into the parser's own buffer (no allocation per line once it has grown).
#include "json_parser.h"

#include <simdjson.h>

#include "text_parser.h"

namespace gidlog_trace {

namespace od = simdjson::ondemand;

struct json_parser::impl {
  od::parser parser;
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
