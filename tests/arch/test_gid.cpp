// gidlog::gid(): the value, in every kind of thread, under every method, and the fallbacks.
// Catch2 2.x assertions are not thread-safe: threads only record, the test thread asserts.
#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <gidlog/detail/gid_table.h>
#include <gidlog/gid.h>

namespace {

namespace gd = gidlog::detail;
using gidlog::gid_source;

std::uint32_t kernel_tid() { return static_cast<std::uint32_t>(::syscall(SYS_gettid)); }

// Where the built-in table has a fast path to offer (the library the tests run on).
constexpr bool fast_expected =
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
    true;
#else
    false;
#endif

// The reasons the warn hook received, for the test thread to look at.
struct hook_log {
  std::mutex mutex;
  std::vector<std::string> reasons;
  std::vector<gid_source> method_seen;       // gid_method() inside the hook
  std::vector<bool> gid_right_inside;        // gid() == gettid inside the hook
};
hook_log& hooks() {
  static hook_log log;
  return log;
}
void recording_hook(const char* reason) noexcept {
  auto& log = hooks();
  const gid_source m = gidlog::gid_method();
  const bool right = gidlog::gid() == kernel_tid();
  std::lock_guard lock(log.mutex);
  log.reasons.emplace_back(reason);
  log.method_seen.push_back(m);
  log.gid_right_inside.push_back(right);
}

// Sets GIDLOG_GID_METHOD (nullptr: unset), installs the recording hook and re-initialises; the
// destructor restores the environment, re-initialises with the real table and removes the hook.
class scoped_gid_setup {
 public:
  explicit scoped_gid_setup(const char* method_env) {
    if (const char* old = std::getenv("GIDLOG_GID_METHOD")) saved_ = old;
    set_env(method_env);
    {
      std::lock_guard lock(hooks().mutex);
      hooks().reasons.clear();
      hooks().method_seen.clear();
      hooks().gid_right_inside.clear();
    }
    gd::set_gid_warn_hook(recording_hook);
  }
  scoped_gid_setup(const scoped_gid_setup&) = delete;
  scoped_gid_setup& operator=(const scoped_gid_setup&) = delete;
  ~scoped_gid_setup() {
    set_env(nullptr);
    gd::gid_reinit_for_test();
    gd::set_gid_warn_hook(nullptr);
    if (saved_) ::setenv("GIDLOG_GID_METHOD", saved_->c_str(), 1);
  }
  static std::vector<std::string> reasons() {
    std::lock_guard lock(hooks().mutex);
    return hooks().reasons;
  }

 private:
  static void set_env(const char* value) {
    if (value != nullptr) ::setenv("GIDLOG_GID_METHOD", value, 1);
    else ::unsetenv("GIDLOG_GID_METHOD");
  }
  std::optional<std::string> saved_;
};

// Runs gid() and syscall(SYS_gettid) in a fresh thread.
std::pair<std::uint32_t, std::uint32_t> in_new_thread() {
  std::pair<std::uint32_t, std::uint32_t> r{};
  std::thread([&] {
    r.first = gidlog::gid();
    r.second = kernel_tid();
  }).join();
  return r;
}

bool contains(const std::string& hay, const char* needle) { return hay.find(needle) != std::string::npos; }

// The built-in offset of this build's architecture for the running glibc, or 0.
std::ptrdiff_t builtin_offset() {
#if defined(__x86_64__)
  return 0x2d0;
#elif defined(__aarch64__)
  return 0xd0;
#else
  return 0;
#endif
}

}  // namespace

TEST_CASE("gid() equals gettid and getpid on the main thread", "[gid]") {
  scoped_gid_setup setup(nullptr);
  gd::gid_reinit_for_test();
  const std::uint32_t g = gidlog::gid();
  CHECK(g == kernel_tid());
  CHECK(g == static_cast<std::uint32_t>(::getpid()));
  CHECK(gidlog::gid() == g);  // second call: the fast path proper, past the check
  INFO(gd::gid_init_note());
  if (fast_expected) {
    CHECK(gidlog::gid_method() == gid_source::fast);
    CHECK(std::string(gidlog::gid_method_name()) == "fast");
    CHECK(gd::gid_offset_from_self() == builtin_offset());
  }
  CHECK(scoped_gid_setup::reasons().empty());
}

TEST_CASE("gid() is each thread's own TID in 200 threads started at once", "[gid]") {
  scoped_gid_setup setup(nullptr);
  gd::gid_reinit_for_test();
  constexpr int n = 200;
  std::vector<std::uint32_t> first(n), second(n), tids(n);
  std::latch start(n);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      first[static_cast<std::size_t>(i)] = gidlog::gid();   // the per-thread check
      second[static_cast<std::size_t>(i)] = gidlog::gid();  // the fast read
      tids[static_cast<std::size_t>(i)] = kernel_tid();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(first == tids);
  CHECK(second == tids);
  CHECK(std::set<std::uint32_t>(tids.begin(), tids.end()).size() == static_cast<std::size_t>(n));
  CHECK(std::count(tids.begin(), tids.end(), kernel_tid()) == 0);
  if (fast_expected) CHECK(gidlog::gid_method() == gid_source::fast);
}

TEST_CASE("gid() is right in threads created before the initialisation", "[gid]") {
  scoped_gid_setup setup(nullptr);
  constexpr int n = 16;
  std::vector<std::uint32_t> gids(n), tids(n);
  std::latch created(n + 1), go(1);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      created.count_down();
      go.wait();
      gids[static_cast<std::size_t>(i)] = gidlog::gid();
      tids[static_cast<std::size_t>(i)] = kernel_tid();
    });
  }
  created.arrive_and_wait();
  gd::gid_reinit_for_test();  // the process initialises now, with these threads alive
  go.count_down();
  for (auto& t : threads) t.join();
  CHECK(gids == tids);
  if (fast_expected) CHECK(gidlog::gid_method() == gid_source::fast);
}

TEST_CASE("gid() is right in a dlopen()ed library, its own threads and threads older than it", "[gid]") {
  scoped_gid_setup setup(nullptr);  // the library reads GIDLOG_GID_METHOD when it loads
  constexpr unsigned n = 32;
  // Threads that exist before the library (and its copy of the gid layer) is loaded.
  std::latch created(n + 1), loaded(1);
  std::atomic<std::uint32_t (*)()> lib_gid{nullptr};
  std::vector<std::uint32_t> old_gids(n), old_tids(n);
  std::vector<std::thread> old_threads;
  for (unsigned i = 0; i < n; ++i) {
    old_threads.emplace_back([&, i] {
      created.count_down();
      loaded.wait();
      old_gids[i] = lib_gid.load()();
      old_tids[i] = kernel_tid();
    });
  }
  created.arrive_and_wait();

  void* lib = ::dlopen(GIDLOG_TEST_DL_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  INFO(GIDLOG_TEST_DL_PATH << ": " << (lib ? "" : ::dlerror()));
  REQUIRE(lib != nullptr);
  auto dl_gid = reinterpret_cast<std::uint32_t (*)()>(::dlsym(lib, "gidlog_test_dl_gid"));
  auto dl_method = reinterpret_cast<int (*)()>(::dlsym(lib, "gidlog_test_dl_method"));
  auto dl_threads = reinterpret_cast<void (*)(unsigned, std::uint32_t*, std::uint32_t*)>(::dlsym(lib, "gidlog_test_dl_threads"));
  REQUIRE(dl_gid != nullptr);
  REQUIRE(dl_method != nullptr);
  REQUIRE(dl_threads != nullptr);
  lib_gid.store(dl_gid);
  loaded.count_down();
  for (auto& t : old_threads) t.join();
  CHECK(old_gids == old_tids);

  CHECK(dl_gid() == kernel_tid());
  if (fast_expected) CHECK(dl_method() == static_cast<int>(gid_source::fast));

  std::vector<std::uint32_t> gids(n), tids(n);
  dl_threads(n, gids.data(), tids.data());
  CHECK(gids == tids);
  CHECK(std::set<std::uint32_t>(tids.begin(), tids.end()).size() == n);
}

TEST_CASE("each forced method returns the same TID as the fast path", "[gid]") {
  const std::uint32_t main_tid = kernel_tid();
  struct row {
    const char* env;
    gid_source expected;
  };
  const row rows[] = {
      {"syscall", gid_source::syscall},
      {"procfs", gid_source::procfs},
      {"fast", fast_expected ? gid_source::fast : gid_source::syscall},
      {"auto", fast_expected ? gid_source::fast : gid_source::syscall},
  };
  std::uint32_t fast_value = 0;
  {
    scoped_gid_setup setup("fast");
    gd::gid_reinit_for_test();
    fast_value = gidlog::gid();
  }
  for (const row& r : rows) {
    SECTION(std::string("GIDLOG_GID_METHOD=") + r.env) {
      scoped_gid_setup setup(r.env);
      gd::gid_reinit_for_test();
      INFO(gd::gid_init_note());
      CHECK(gidlog::gid_method() == r.expected);
      CHECK(std::string(gidlog::gid_method_name()) == gidlog::gid_source_name(r.expected));
      CHECK(gidlog::gid() == main_tid);
      CHECK(gidlog::gid() == fast_value);
      auto [g, t] = in_new_thread();
      CHECK(g == t);
      CHECK(scoped_gid_setup::reasons().empty());
    }
  }
}

TEST_CASE("an unknown GIDLOG_GID_METHOD value is reported and auto is used", "[gid]") {
  scoped_gid_setup setup("turbo");
  gd::gid_reinit_for_test();
  CHECK(gidlog::gid_method() == (fast_expected ? gid_source::fast : gid_source::syscall));
  const auto reasons = scoped_gid_setup::reasons();
  REQUIRE(reasons.size() == 1);
  CHECK(contains(reasons[0], "GIDLOG_GID_METHOD=turbo"));
  CHECK(gidlog::gid() == kernel_tid());
}

TEST_CASE("an unknown C library version with a wrong offset falls back and says why", "[gid]") {
  if (!fast_expected) {
    WARN("no fast path on this platform");
    return;
  }
  // The TID field + 4: in glibc the unused `pid` slot after `tid` (0), in musl `errno_val`.
  const std::ptrdiff_t wrong = builtin_offset() + 4;
  std::uint32_t at_wrong = 0;
  std::memcpy(&at_wrong, reinterpret_cast<const char*>(::pthread_self()) + wrong, sizeof at_wrong);
  REQUIRE(at_wrong != kernel_tid());  // else the wrong offset is not wrong on this libc

  const gd::gid_offset_entry table[] = {
      {gd::gid_libc::glibc, {2, 17, 0}, {2, 42, 0xffff}, wrong, wrong, true},
      {gd::gid_libc::glibc, {2, 43, 0}, gd::gid_version_max, wrong, wrong, false},
      {gd::gid_libc::musl, {1, 1, 0}, gd::gid_version_max, wrong, wrong, true},
  };
  scoped_gid_setup setup(nullptr);

  SECTION("a version past the table: the extrapolated offset does not verify") {
    gd::gid_reinit_for_test(table, "2.99");
    CHECK(gidlog::gid_method() == gid_source::syscall);
    const auto reasons = scoped_gid_setup::reasons();
    REQUIRE(reasons.size() == 1);
    INFO(reasons[0]);
#if defined(__GLIBC__)
    CHECK(contains(reasons[0], "2.99"));
    CHECK(contains(reasons[0], "past the measured versions"));
#endif
    CHECK(contains(reasons[0], "gettid() is"));
    CHECK(contains(reasons[0], "uses syscall"));
  }
#if defined(__GLIBC__)
  SECTION("a version older than every row") {
    gd::gid_reinit_for_test(table, "2.12");
    CHECK(gidlog::gid_method() == gid_source::syscall);
    const auto reasons = scoped_gid_setup::reasons();
    REQUIRE(reasons.size() == 1);
    INFO(reasons[0]);
    CHECK(contains(reasons[0], "no row of the gid offset table covers glibc 2.12"));
  }
  SECTION("the real table and a version past it: the known offset verifies") {
    gd::gid_reinit_for_test(gd::gid_builtin_offsets(), "2.99");
    INFO(gd::gid_init_note());
    CHECK(gidlog::gid_method() == gid_source::fast);
    CHECK(contains(gd::gid_init_note(), "past the measured range"));
    CHECK(scoped_gid_setup::reasons().empty());
  }
#endif
  // Whatever happened, gid() stays right: here and in a new thread.
  CHECK(gidlog::gid() == kernel_tid());
  auto [g, t] = in_new_thread();
  CHECK(g == t);
}

TEST_CASE("a layout that matched only on the first thread is caught on the next thread", "[gid]") {
  if (!fast_expected) return;
  scoped_gid_setup setup(nullptr);
  gd::gid_reinit_for_test();
  REQUIRE(gidlog::gid_method() == gid_source::fast);
  // Pretend the offset verified by chance on this thread: point it 4 bytes off. This thread is
  // already checked, so it must not call gid() until another thread has caught the mistake.
  gd::gid_fast.tp_offset.fetch_add(4);
  auto [g, t] = in_new_thread();
  CHECK(g == t);
  CHECK(gidlog::gid_method() == gid_source::syscall);
  CHECK(gidlog::gid() == kernel_tid());
  const auto reasons = scoped_gid_setup::reasons();
  REQUIRE(reasons.size() == 1);
  INFO(reasons[0]);
  CHECK(contains(reasons[0], ("failed its check on thread " + std::to_string(t)).c_str()));
  CHECK(hooks().method_seen.at(0) == gid_source::syscall);  // the hook ran after the switch
  CHECK(hooks().gid_right_inside.at(0));
}

TEST_CASE("the warn hook runs after the switch, and a reason raised before it is delivered once", "[gid]") {
  if (!fast_expected) return;
  const gd::gid_offset_entry table[] = {
      {gd::gid_libc::glibc, {0, 0, 0}, gd::gid_version_max, builtin_offset() + 4, builtin_offset() + 4, true},
      {gd::gid_libc::musl, {0, 0, 0}, gd::gid_version_max, builtin_offset() + 4, builtin_offset() + 4, true},
  };
  scoped_gid_setup setup(nullptr);
  gd::set_gid_warn_hook(nullptr);
  gd::gid_reinit_for_test(table, nullptr);  // reason goes to stderr and is kept
  CHECK(gidlog::gid_method() == gid_source::syscall);
  CHECK(gidlog::gid() == kernel_tid());
  CHECK(scoped_gid_setup::reasons().empty());

  gd::set_gid_warn_hook(recording_hook);
  auto reasons = scoped_gid_setup::reasons();
  REQUIRE(reasons.size() == 1);
  INFO(reasons[0]);
  CHECK(contains(reasons[0], "gid fast path unavailable"));
  CHECK(hooks().method_seen.at(0) == gid_source::syscall);
  CHECK(hooks().gid_right_inside.at(0));

  gd::set_gid_warn_hook(recording_hook);  // once only
  CHECK(scoped_gid_setup::reasons().size() == 1);
}

TEST_CASE("libc versions parse and the built-in table holds the documented offsets", "[gid]") {
  using v = gd::gid_libc_version;
  CHECK(gd::gid_parse_libc_version("2.36") == v{2, 36, 0});
  CHECK(gd::gid_parse_libc_version("2.17.90") == v{2, 17, 90});
  CHECK(gd::gid_parse_libc_version("1.2.3") == v{1, 2, 3});
  CHECK(gd::gid_parse_libc_version("2.36-9+deb12u4") == v{2, 36, 0});
  CHECK(gd::gid_parse_libc_version("stable") == v{});
  CHECK(gd::gid_parse_libc_version(nullptr) == v{});
  CHECK(v{2, 42, 1} < v{2, 43, 0});

  auto find = [](gd::gid_libc libc, v version) -> const gd::gid_offset_entry* {
    for (const auto& row : gd::gid_builtin_offsets())
      if (row.libc == libc && !(version < row.first) && !(row.last < version)) return &row;
    return nullptr;
  };
  const auto* g217 = find(gd::gid_libc::glibc, {2, 17, 0});
  const auto* g236 = find(gd::gid_libc::glibc, {2, 36, 0});
  const auto* g242 = find(gd::gid_libc::glibc, {2, 42, 0});
  const auto* g250 = find(gd::gid_libc::glibc, {2, 50, 0});
  const auto* m123 = find(gd::gid_libc::musl, {1, 2, 3});
  const auto* m121 = find(gd::gid_libc::musl, {1, 2, 1});
  const auto* m119 = find(gd::gid_libc::musl, {1, 1, 19});
  REQUIRE(g217);
  REQUIRE(g236);
  REQUIRE(g242);
  REQUIRE(g250);
  REQUIRE(m123);
  REQUIRE(m121);
  REQUIRE(m119);
  CHECK(find(gd::gid_libc::glibc, {2, 16, 0}) == nullptr);
  CHECK((g236->x86_64 == 0x2d0 && g236->aarch64 == 0xd0 && g236->measured));
  CHECK((g217 == g236 && g242 == g236));
  CHECK((g250->x86_64 == 0x2d0 && g250->aarch64 == 0xd0 && !g250->measured));
  CHECK((m123->x86_64 == 0x30 && m123->aarch64 == 0x20));
  CHECK((m121->x86_64 == 0x38 && m121->aarch64 == 0x38 && m119 == m121));
}

TEST_CASE("an offset outside mapped memory is refused, not read", "[gid]") {
  if (!fast_expected) return;
  // Only where process_vm_readv works (qemu-user and some seccomp profiles refuse it; the
  // initialisation then trusts the table's offsets and reads directly).
  std::uint32_t probe = 0, src = 42;
  iovec local{&probe, sizeof probe}, remote{&src, sizeof src};
  if (::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0) != static_cast<ssize_t>(sizeof probe)) {
    WARN("process_vm_readv unavailable here");
    return;
  }
  // An offset 1 TiB past the descriptor: unmapped in any sane address space.
  const std::ptrdiff_t far = std::ptrdiff_t{1} << 40;
  const gd::gid_offset_entry table[] = {
      {gd::gid_libc::glibc, {0, 0, 0}, gd::gid_version_max, far, far, true},
      {gd::gid_libc::musl, {0, 0, 0}, gd::gid_version_max, far, far, true},
  };
  scoped_gid_setup setup(nullptr);
  gd::gid_reinit_for_test(table, nullptr);
  CHECK(gidlog::gid_method() == gid_source::syscall);
  const auto reasons = scoped_gid_setup::reasons();
  REQUIRE(reasons.size() == 1);
  INFO(reasons[0]);
  CHECK(contains(reasons[0], "is not readable"));
  CHECK(gidlog::gid() == kernel_tid());
}
