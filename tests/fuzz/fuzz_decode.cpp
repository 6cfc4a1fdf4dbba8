// Fuzzes the argument decoder, decode_args(meta, data, out): records whose argument kinds and
// bytes come from the input, encoded by the caller's own encoder (any kind it produces, strings of
// any length and bytes, deferred_format types), decoded from an exactly sized copy of the payload
// (reading past it is an ASan report) and from the record itself (inline or spilled), then
// formatted with format specs valid for each kind. The decoded values must equal the encoded
// ones, and the message must be what fmt writes for the original values, also inside a line.
//
// Input: a control byte (bit 0: fields numbered "{N}", bit 1: in reverse order, bit 2: "{{" "}}"
// in the literal text, bit 3: escape_newlines in the line), then per argument a kind byte, a spec
// byte (an index into the specs for that kind, 0 = "{}"), and the value as fuzz_support.h
// describes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"

using namespace gidlog_fuzz;

namespace {

template <std::size_t N>
std::string_view pick(const char* const (&specs)[N], std::uint8_t b) {
  return specs[b % N];
}

std::string_view spec_for(arg_kind k, std::uint8_t b) {
  static const char* const ints[] = {"", ">8", "<5", "^9", "08", "+", "#x", "#b", "o", "X", " ", "-", "c", "#06x"};
  static const char* const bools[] = {"", ">6", "d", "#x", "<7", "s"};
  static const char* const chars[] = {"", ">3", "d", "x", "^5", "c", "#o"};
  static const char* const floats[] = {"", ".3f", ".0f", ".9f", ".10f", "e", ".2e", "g", ">12.3f", "+.1f",
                                       "a", "08.3f", ".17g", "#", ".1f", ".6f", "G", "E", ".3", "f", "<10", ".30f"};
  static const char* const pointers[] = {"", ">20", "p", "<20", "^24"};
  static const char* const strings[] = {"", ">10", "<10", "^11", ".3", "s", ">10.2", "*^30"};
  static const char* const customs[] = {"", ">14", "<14", ".3", "^9", "s", "_>20.5"};
  switch (k) {
    case arg_kind::boolean: return pick(bools, b);
    case arg_kind::character: return pick(chars, b);
    case arg_kind::i32: case arg_kind::u32: case arg_kind::i64: case arg_kind::u64: return pick(ints, b);
    case arg_kind::f32: case arg_kind::f64: case arg_kind::f80: return pick(floats, b);
    case arg_kind::pointer: return pick(pointers, b);
    case arg_kind::string: return pick(strings, b);
    case arg_kind::custom: return pick(customs, b);
  }
  return "";
}

std::string escape_newlines(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  const std::uint8_t control = in.byte();
  const bool numbered = (control & 1) != 0, reversed = (control & 2) != 0, braces = (control & 4) != 0;
  const bool escape = (control & 8) != 0;

  std::vector<value> values;
  std::vector<std::string_view> specs;
  while (!in.empty() && values.size() < 64) {
    arg_kind k = read_kind(in);
    specs.push_back(spec_for(k, in.byte()));
    values.push_back(read_value(in, k));
  }
  if (reversed && !numbered) return -1;  // the same input as without the bit

  std::string format = braces ? "{{decode}} " : "decode: ";
  for (std::size_t j = 0; j < values.size(); ++j) {
    std::size_t i = reversed ? values.size() - 1 - j : j;
    if (j > 0) format += braces ? " }}{{ " : " | ";
    format += '{';
    if (numbered) format += std::to_string(i);
    if (!specs[i].empty()) format += ':';
    format += specs[i];
    format += '}';
  }
  encoded_record er(format, values);

  std::vector<arg_value> decoded;
  gidlog::detail::decode_args(er.meta, er.exact.get(), decoded);
  check_decoded(values, decoded);
  std::vector<arg_value> from_record;
  gidlog::detail::decode_args(er.meta, er.rec.data(), from_record);
  check_decoded(values, from_record);

  fmt::memory_buffer out;
  bool ok = gidlog::detail::format_message(er.site, decoded, out);
  std::string got(out.data(), out.size());
  expectation want = expect(format, values);
  if (ok != want.ok || got != want.text) {
    fail(fmt::format("format \"{}\":\n  fmt:    {} \"{}\"\n  gidlog: {} \"{}\"", show(format), want.ok ? "ok" : "error",
                     show(want.text), ok ? "ok" : "error", show(got)));
  }

  // The same record through a line: the message part is the message, escaped when asked.
  static gidlog::detail::line_formatter plain = [] {
    gidlog::options opt;
    opt.pattern = "<%v>";
    return gidlog::detail::line_formatter(opt);
  }();
  static gidlog::detail::line_formatter escaping = [] {
    gidlog::options opt;
    opt.escape_newlines = true;
    return gidlog::detail::line_formatter(opt);
  }();
  fmt::memory_buffer line;
  auto res = (escape ? escaping : plain).format(er.rec, 1'771'950'332'320'123'456, line);
  check(res.site == &er.site && res.format_ok == ok, "line_formatter::format: site or status");
  check(res.msg_begin <= res.msg_end && res.msg_end < line.size() && line.data()[line.size() - 1] == '\n',
        "line_formatter::format: message bounds");
  std::string_view msg(line.data() + res.msg_begin, res.msg_end - res.msg_begin);
  check(msg == (escape ? escape_newlines(got) : got), "the line's message differs from format_message's");
  return 0;
}
