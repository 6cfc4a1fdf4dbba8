#pragma once
// Helpers of the file sink tests (sinks_json.cpp, sinks_rotation*.cpp): what start() rejects, a
// temporary directory, and
// reading JSON lines files of 10^5-10^6 lines with nlohmann/json's SAX parser: each line is fully
// parsed (a syntax error fails it) into its scalar members, nested objects flattened
// ("ctx.req"), without building a DOM (3x faster than json::parse).
//
// Under ASan/TSan, and under qemu (GIDLOG_TEST_TIME_SCALE > 1), the parser runs 30-100x slower,
// so there the big tests parse every parse_stride()-th line and still check every line's numbers
// with scan_number(); optimised native builds parse every line.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <gidlog/gidlog.h>

#include "log_capture.h"
#include "test_timing.h"

namespace gidlog_test {

// What start() throws as std::invalid_argument with `s` as the second sink (a console sink first,
// so the message must name sinks[1]); "" when it starts (then it is stopped again).
inline std::string start_rejection(gidlog::sink_ptr s) {
  gidlog::options opt;
  opt.sinks = {gidlog::console_sink(), std::move(s)};
  try {
    gidlog::start(opt);
    gidlog::stop();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// A fresh directory under /tmp, removed with everything in it at the end of the scope.
struct temp_dir {
  std::string path;
  explicit temp_dir(const std::string& name) : path(temp_path(name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string operator/(const std::string& f) const { return path + "/" + f; }
};

// True in ASan/TSan builds and under qemu, where code runs 10-100x slower than natively.
inline bool slow_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return true;
#endif
#endif
  return time_scale() > 1;
}

inline std::size_t parse_stride() { return slow_build() ? 50 : 1; }

// The integer after `"key":` in a line, or -1 (a quick look, not a parse).
inline long scan_number(std::string_view line, std::string_view key) {
  for (std::size_t at = line.find(key); at != std::string_view::npos; at = line.find(key, at + 1)) {
    if (at == 0 || line[at - 1] != '"' || line.substr(at + key.size(), 2) != "\":") continue;
    long v = -1;
    std::from_chars(line.data() + at + key.size() + 2, line.data() + line.size(), v);
    return v;
  }
  return -1;
}

class flat_json_line final : public nlohmann::json_sax<nlohmann::json> {
 public:
  // Parses `line`: true when it is one valid JSON object.
  bool parse(std::string_view line) {
    count_ = 0;
    path_.clear();
    depth_ = 0;
    return nlohmann::json::sax_parse(line, this) && count_ != 0;
  }
  // The member's text: a string's value (unescaped), a number's or a literal's JSON text; nullptr
  // when absent. `kind` says which: 's' string, 'i' integer, 'u' unsigned, 'f' float, 'b' bool.
  const std::string* get(std::string_view key, char* kind = nullptr) const {
    for (std::size_t i = 0; i < count_; ++i)
      if (members_[i].key == key) {
        if (kind != nullptr) *kind = members_[i].kind;
        return &members_[i].value;
      }
    return nullptr;
  }
  std::size_t size() const { return count_; }

  bool null() override { return add('n', "null"); }
  bool boolean(bool v) override { return add('b', v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return add('i', std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return add('u', std::to_string(v)); }
  // (to_string: short numbers fit the small-string buffer, no allocation)
  bool number_float(number_float_t, const string_t& text) override { return add('f', text); }
  bool string(string_t& v) override { return add('s', v); }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    if (depth_++ > 0) path_.assign(key_).append(".");
    return depth_ <= 2;
  }
  bool key(string_t& k) override {
    key_.assign(path_).append(k);
    return true;
  }
  bool end_object() override {
    if (--depth_ == 1) path_.clear();
    return true;
  }
  bool start_array(std::size_t) override { return false; }  // a JSON line here never has one
  bool end_array() override { return false; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct member {
    std::string key, value;
    char kind = 0;
  };
  // Members are reused from line to line, so their strings keep their capacity.
  bool add(char kind, std::string_view value) {
    if (count_ == members_.size()) members_.emplace_back();
    member& m = members_[count_++];
    m.key.assign(key_);
    m.value.assign(value);
    m.kind = kind;
    return depth_ > 0;
  }
  std::vector<member> members_;
  std::size_t count_ = 0;
  std::string key_, path_;
  int depth_ = 0;
};

}  // namespace gidlog_test
