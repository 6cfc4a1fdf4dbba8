// The shared library the [gid] tests dlopen() (target gidlog_test_dl, built from this file with
// GIDLOG_TEST_DL_LIBRARY defined by tests/arch/CMakeLists.txt). It links its own copy of gidlog's gid
// layer, whose initialisation therefore runs inside dlopen(), after the test's threads exist,
// and whose one-byte initial-exec TLS flag comes from the static TLS surplus. In the test
// executable itself (the test_*.cpp glob) this file compiles to nothing.
#if defined(GIDLOG_TEST_DL_LIBRARY)

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include <gidlog/gid.h>

extern "C" {

// gid() as this library sees it.
__attribute__((visibility("default"))) std::uint32_t gidlog_test_dl_gid() { return gidlog::gid(); }

__attribute__((visibility("default"))) int gidlog_test_dl_method() { return static_cast<int>(gidlog::gid_method()); }

// Starts n threads at once inside the library; thread i stores its gid() in gids[i] and
// syscall(SYS_gettid) in tids[i]. Returns when all have finished.
__attribute__((visibility("default"))) void gidlog_test_dl_threads(unsigned n, std::uint32_t* gids, std::uint32_t* tids) {
  std::latch start(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      gids[i] = gidlog::gid();
      tids[i] = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    });
  }
  for (auto& t : threads) t.join();
}

}  // extern "C"

#else
// Nothing here: see the comment at the top.
namespace gidlog_test_dl_unused {}
#endif
