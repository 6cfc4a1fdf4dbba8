// The include-direction test: every #include in src/ runs to a lower layer or stays in its own
// folder, so the library's layers have no cycle and a reader who knows which layer a file is in
// knows what it may use. Runs on the test's thread only; it reads the source tree and never
// starts gidlog.
//
// The layer table below is the one place the layers are written down (the README's Design section
// draws it). A file's layer is its folder under src/; an include's layer is the folder it names
// ("backend/writer.h") or, for a public header, the layer that implements it.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

namespace fs = std::filesystem;

namespace {

// The layers of src/, lowest first. A file may include its own folder and any folder of a LOWER
// rank; folders of the same rank are siblings and never include each other.
//   0 core        shared state and utilities both threads use (queue state, context, named
//                 loggers, start_named_thread and the thread-origin table)
//   1 gid         the thread id (gid()) and its table
//   1 frontend    the caller's side: the producer rings, logger handles
//   1 sinks       where lines go: files, console, JSON, syslog, journald
//   2 backend     the backend thread: dequeue, merge, format, write
//   3 runtime     worker pool, limiter, task registry (and their public headers)
//   4 introspect  thread and task profiles, debug stats, the debug server (and their headers)
//   5 lifecycle   what wires the rest at start, stop, fork, exit and crash
// Above all: tools/, which include only public headers.
const std::map<std::string, int, std::less<>> layer_rank{
    {"core", 0},    {"gid", 1},     {"frontend", 1},   {"sinks", 1},
    {"backend", 2}, {"runtime", 3}, {"introspect", 4}, {"lifecycle", 5},
};

// The public headers' layers. The umbrella <gidlog/gidlog.h> includes every layer's headers, so
// src/ never includes it. The runtime's and introspect's headers declare what those layers
// implement; <gidlog/runtime/source_location.h> is a header-only utility any layer may use. Every
// other public header is the API, below every layer.
constexpr const char* umbrella = "gidlog/gidlog.h";
constexpr const char* api = "api";

std::string public_header_layer(const std::string& name) {
  if (name == "gidlog/runtime/source_location.h") return api;
  if (name == "gidlog/runtime.h" || name.starts_with("gidlog/runtime/") || name.starts_with("gidlog/testing/"))
    return "runtime";
  if (name == "gidlog/introspect.h" || name.starts_with("gidlog/introspect/")) return "introspect";
  return api;
}

struct violation {
  std::string file;  // relative to the tree's root: "src/core/x.cpp"
  int line = 0;
  std::string text;  // what is wrong, with both layers
};

std::string describe(const std::string& layer) {
  const auto it = layer_rank.find(layer);
  return it == layer_rank.end() ? layer : layer + " (" + std::to_string(it->second) + ")";
}

// Every violation in `root`/src: upward includes, includes between siblings, the umbrella, and
// files in a folder missing from the table. `files` counts the files read.
std::vector<violation> check_tree(const fs::path& root, int& files) {
  static const std::regex include_line(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::vector<violation> out;
  files = 0;
  const fs::path src = root / "src";
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(src))
    if (e.is_regular_file()) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    const std::string rel = fs::relative(path, root).generic_string();
    const fs::path under_src = fs::relative(path, src);
    const std::string folder = under_src.has_parent_path() ? under_src.begin()->string() : "";
    ++files;
    const auto from = layer_rank.find(folder);
    if (from == layer_rank.end()) {
      out.push_back({rel, 0, "folder \"" + folder + "\" is not in the layer table (tests/layers/test_layers.cpp)"});
      continue;
    }
    std::ifstream in(path);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::smatch m;
      if (!std::regex_search(line, m, include_line)) continue;
      const std::string name = m[2];
      const bool quoted = m[1] == "\"";
      std::string to;
      if (!quoted && name == umbrella) {
        out.push_back({rel, n, describe(folder) + " includes the umbrella <" + name + ">: include the specific headers"});
        continue;
      }
      if (!quoted && name.starts_with("gidlog/")) {
        to = public_header_layer(name);
      } else if (quoted) {
        const auto slash = name.find('/');
        to = slash == std::string::npos ? folder : name.substr(0, slash);  // "x.h": its own folder
      } else {
        continue;  // a system or third-party header
      }
      if (to == api || to == folder) continue;
      const auto target = layer_rank.find(to);
      const std::string shown = quoted ? "\"" + name + "\"" : "<" + name + ">";
      if (target == layer_rank.end()) {
        out.push_back({rel, n, describe(folder) + " includes " + shown + " from \"" + to +
                                   "\", a folder not in the layer table"});
      } else if (target->second > from->second) {
        out.push_back({rel, n, describe(folder) + " includes " + shown + " from the higher layer " + describe(to)});
      } else if (target->second == from->second) {
        out.push_back({rel, n, describe(folder) + " includes " + shown + " from its sibling " + describe(to)});
      }
    }
  }
  return out;
}

std::string report(const std::vector<violation>& v) {
  std::string s;
  for (const violation& x : v) s += x.file + ":" + std::to_string(x.line) + ": " + x.text + "\n";
  return s;
}

// A small tree under the temporary directory, removed when the test ends.
struct temp_tree {
  fs::path root = fs::temp_directory_path() / ("gidlog_layers_" + std::to_string(::getpid()));
  temp_tree() { fs::remove_all(root); }
  ~temp_tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  void write(const std::string& rel, const std::string& text) const {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text;
  }
};

bool reported(const std::vector<violation>& v, const std::string& file, int line, const std::string& part) {
  return std::any_of(v.begin(), v.end(), [&](const violation& x) {
    return x.file == file && x.line == line && x.text.find(part) != std::string::npos;
  });
}

}  // namespace

// Catches: a src/ file that includes a header of a higher layer or of a sibling (a cycle in the
// making), the umbrella header, or sits in a folder nobody placed in the table.
TEST_CASE("Every include in src runs to a lower layer or stays in its own folder", "[layers]") {
  int files = 0;
  const std::vector<violation> v = check_tree(GIDLOG_SOURCE_DIR, files);
  INFO(report(v));
  CHECK(v.empty());
  // Read the real tree, not an empty one: src/ holds some hundred files.
  CHECK(files > 50);
}

// Catches: a checker that passes whatever the includes say (the first test would then prove
// nothing). Each wrong include of a synthetic tree is reported with its file, line and layers.
TEST_CASE("The checker reports a wrong include with its file, line and both layers", "[layers]") {
  temp_tree t;
  t.write("src/core/x.cpp", "// core\n#include \"core/shared.h\"\n#include \"lifecycle/crash.h\"\n");
  t.write("src/sinks/y.cpp", "#include <gidlog/sink.h>\n#include \"frontend/producer.h\"\n#include <gidlog/gidlog.h>\n");
  t.write("src/backend/z.cpp", "#include \"sinks/log_file.h\"\n#include <gidlog/runtime/worker_pool.h>\n"
                               "#include <gidlog/runtime/source_location.h>\n#include <vector>\n");
  t.write("src/lifecycle/ok.cpp", "#include \"backend/backend.h\"\n#include <gidlog/introspect/threads.h>\n");
  t.write("src/elsewhere/w.cpp", "#include \"core/shared.h\"\n");
  int files = 0;
  const std::vector<violation> v = check_tree(t.root, files);
  INFO(report(v));
  CHECK(files == 5);
  CHECK(reported(v, "src/core/x.cpp", 3, "core (0) includes \"lifecycle/crash.h\" from the higher layer lifecycle (5)"));
  CHECK(reported(v, "src/sinks/y.cpp", 2, "sinks (1) includes \"frontend/producer.h\" from its sibling frontend (1)"));
  CHECK(reported(v, "src/sinks/y.cpp", 3, "umbrella <gidlog/gidlog.h>"));
  CHECK(reported(v, "src/backend/z.cpp", 2, "backend (2) includes <gidlog/runtime/worker_pool.h> from the higher layer runtime (3)"));
  CHECK(reported(v, "src/elsewhere/w.cpp", 0, "folder \"elsewhere\" is not in the layer table"));
  // Nothing else: the downward and same-folder includes above are allowed.
  CHECK(v.size() == 5);
}
