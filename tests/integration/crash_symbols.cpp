// The crash record's backtrace names the functions of an executable that exports nothing (no
// -rdynamic, unlike it_crash_drain): a child faults in a static function, through an inlined one, and
// the parent reads the text and JSON lines it left. dladdr() alone names none of these frames
// (it shows "(it_crash_symbols+0x1234)"); the crash record must give function and file:line, the
// inlined call as a frame of its own, and the JSON sink the frames as an array.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"

using gidlog_test::child_env;
using gidlog_test::run_child;

namespace {

int* volatile g_null = nullptr;
volatile int g_after = 0;

constexpr unsigned null_write_line = __LINE__ + 4;  // the faulting statement
// Static: not in the dynamic symbol table whatever the link options.
// The null write is the point: UBSan must not turn it into its own report.
[[gnu::noinline]] __attribute__((no_sanitize("undefined"))) void null_write() {
  *g_null = 1;
  g_after = g_after + 1;  // not a tail position: the frame stays
}

// Inlined into its caller: the return address in request_handler() is inside this function.
constexpr unsigned inlined_call_line = __LINE__ + 2;
[[gnu::always_inline]] inline void validate_request() {
  null_write();
  g_after = g_after + 1;
}

[[gnu::noinline]] void request_handler() {
  validate_request();
  g_after = g_after + 1;
}

}  // namespace

GIDLOG_CHILD_SCENARIO(crash_symbols_segv) {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true}),
               gidlog::json_sink(child_env("GIDLOG_TEST_JSON"))};
  gidlog::start(opt);
  LOG_INFO("about to crash");
  request_handler();
  return 0;
}

// Catches: a crash record whose frames in the executable are "(app+0x1234)" without -rdynamic
// (dladdr only); inlined calls left out; JSON lines with the backtrace only inside "msg".
TEST_CASE("crash record names static and inlined functions with file:line; JSON gets a frames array",
          "[crash][symbols]") {
#ifdef GIDLOG_TEST_NO_LIBDW
  SKIP("built without libdw: frames of the executable are named only when it exports them");
#endif
  const std::string path = gidlog_test::temp_path("crash_symbols.log");
  const std::string json_path = gidlog_test::temp_path("crash_symbols.jsonl");
  ::unlink(path.c_str());
  ::unlink(json_path.c_str());
  auto r = run_child("crash_symbols_segv", {.env = {"GIDLOG_TEST_LOG=" + path, "GIDLOG_TEST_JSON=" + json_path,
                                                    gidlog_test::crash_sanitizer_env("ASAN_OPTIONS"),
                                                    gidlog_test::crash_sanitizer_env("TSAN_OPTIONS")}});
  const std::string text = gidlog_test::read_file(path);
  std::vector<std::string> json_lines;
  {
    std::ifstream in(json_path);
    for (std::string l; std::getline(in, l);) json_lines.push_back(l);
  }
  ::unlink(path.c_str());
  ::unlink(json_path.c_str());
  INFO("child " << r.describe());
  INFO("text log:\n" << text);
  CHECK(r.killed_by(SIGSEGV));

  // Text: "#0 0x... (anonymous namespace)::null_write() at .../crash_symbols.cpp:33"
  const std::string file = "crash_symbols.cpp:";
  CHECK(text.find("crash: SIGSEGV") != std::string::npos);
  CHECK(text.find("null_write() at ") != std::string::npos);
  CHECK(text.find(file + std::to_string(null_write_line)) != std::string::npos);
  CHECK(text.find("validate_request at ") != std::string::npos);  // DWARF's name: no parameters
  CHECK(text.find(file + std::to_string(inlined_call_line) + " (inlined)") != std::string::npos);
  CHECK(text.find("request_handler() at ") != std::string::npos);
  CHECK(text.find("it_crash_symbols+0x") == std::string::npos);  // no frame left to an offset

  // JSON: the crash record's "frames" is an array of objects.
  nlohmann::json crash;
  for (const std::string& l : json_lines) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    REQUIRE(!j.is_discarded());
    if (j.value("level", "") == "FATAL") crash = j;
  }
  REQUIRE(crash.is_object());
  INFO("JSON crash record: " << crash.dump());
  CHECK(crash["msg"].get<std::string>().rfind("crash: SIGSEGV", 0) == 0);
  CHECK(crash["crash"].get<std::string>().rfind("SIGSEGV (SEGV_MAPERR", 0) == 0);
  REQUIRE(crash["frames"].is_array());
  REQUIRE(crash["frames"].size() >= 3);
  const auto& top = crash["frames"][0];
  CHECK(top["func"].get<std::string>().find("null_write()") != std::string::npos);
  CHECK(top["file"].get<std::string>().find("crash_symbols.cpp") != std::string::npos);
  CHECK(top["line"] == null_write_line);
  CHECK(top["addr"].get<std::string>().rfind("0x", 0) == 0);
  bool inlined = false;
  for (const auto& f : crash["frames"])
    if (f.value("inlined", false) && f.value("func", "").find("validate_request") != std::string::npos &&
        f.value("line", 0u) == inlined_call_line)
      inlined = true;
  CHECK(inlined);
}
