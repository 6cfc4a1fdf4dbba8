// Fuzzes the per-call-site format parser (src/backend/message_format.cpp: the format string parsed
// once per site, its fast path and the generic path through fmt): an arbitrary format string and
// arguments read from the input, encoded and decoded as a record's would be. format_message must
// write exactly what fmt writes for the same values, or, where fmt fails, the note for the failure
// ("format error" for the format string, "formatting threw" for a deferred type's formatter), and
// must give the same result again from the cached parse.
//
// Input: the format string, a NUL, then arguments as fuzz_support.h describes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"

using namespace gidlog_fuzz;

namespace {

// A width or precision of a million or more is a request for that many bytes: fmt would
// allocate them, which is the caller's choice, not a parser bug.
bool asks_for_huge_output(std::string_view f) {
  int run = 0;
  for (char c : f) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run >= 6) return true;
  }
  return false;
}

// Dynamic widths and precisions ("{:>{}}") come from integer arguments: keep those small too.
void tame_integers(std::vector<value>& values) {
  for (value& v : values) {
    v.i32 %= 1000;
    v.u32 %= 1000;
    v.i64 %= 1000;
    v.u64 %= 1000;
  }
}

std::string format_once(const encoded_record& er, bool& ok) {
  std::vector<arg_value> decoded;
  gidlog::detail::decode_args(er.meta, er.exact.get(), decoded);
  fmt::memory_buffer out;
  out.append(std::string_view("before|"));  // format_message appends: what is there stays
  ok = gidlog::detail::format_message(er.site, decoded, out);
  std::string s(out.data(), out.size());
  check(s.compare(0, 7, "before|") == 0, "format_message changed what was in the buffer before it");
  return s.substr(7);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  std::string_view format = in.until_nul();
  if (asks_for_huge_output(format)) return -1;  // not added to the corpus
  std::vector<value> values;
  while (!in.empty() && values.size() < 40) values.push_back(read_value(in, read_kind(in)));
  if (format.find(':') != std::string_view::npos) tame_integers(values);

  encoded_record er(format, values);
  bool ok = false;
  std::string got = format_once(er, ok);
  expectation want = expect(format, values);
  // A malformed string with names in it: gidlog and the oracle may stop at different faults, so
  // only "both report a format error for this string" is required of it, not the same words.
  const auto format_error = [&](const std::string& text) {
    return text.rfind("[gidlog: format error: ", 0) == 0 && text.find(std::string(format)) != std::string::npos;
  };
  bool named = false;
  (void)without_names(format, &named);
  if (named && !ok && !want.ok && format_error(got) && format_error(want.text)) want.text = got;
  if (ok != want.ok || got != want.text) {
    fail(fmt::format("format \"{}\" with {} argument(s):\n  fmt:    {} \"{}\"\n  gidlog: {} \"{}\"", show(format),
                     values.size(), want.ok ? "ok" : "error", show(want.text), ok ? "ok" : "error", show(got)));
  }
  bool ok2 = false;
  std::string again = format_once(er, ok2);  // from the parse cached in the site
  check(ok2 == ok && again == got, "a second call with the cached parse differs: \"" + show(again) + "\"");
  return 0;
}
