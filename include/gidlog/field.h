#pragma once
// Typed, named values: the arguments of a record and the context_scope fields, as structured
// sinks (JSON, syslog, journald) and context::fields() see them. Views are valid only while the
// record or context that holds them is.
#include <cstdint>
#include <string_view>

namespace gidlog {
inline namespace v0 {

// A typed value, as structured sinks (JSON, syslog) see an argument or a context entry.
struct field_value {
  enum class kind : std::uint8_t {
    boolean,           // b
    signed_integer,    // i
    unsigned_integer,  // u
    floating,          // d (float and long double arguments too)
    string,            // s: strings, chars, pointers ("0x..."), and user types as their "{}" text
    json,              // s: a JSON array or object, valid as it is (the crash record's "frames");
                       //    JSON sinks embed it, other sinks write it as a string
  };
  kind type = kind::string;
  bool b = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  std::string_view s;
};

// A named value: an argument named by its placeholder ("{user}"; "{}" is arg0, arg1, ... by
// position), or a context_scope entry.
struct field {
  std::string_view name;
  field_value value;
};

}  // namespace v0
}  // namespace gidlog
