# Cross build for aarch64 Linux on Debian/Ubuntu with g++-aarch64-linux-gnu; binaries run under
# qemu-user through CMAKE_CROSSCOMPILING_EMULATOR, so `ctest` (and catch_discover_tests) work as
# usual. Used by the presets `aarch64` (the whole logger) and `aarch64-gid` (the gid/arch layer).
#
# Where things come from (Debian multiarch; tests/arch/run_aarch64.sh checks they are there):
#   compiler, libc and libstdc++ to link against   g++-aarch64-linux-gnu (sysroot /usr/aarch64-linux-gnu)
#   fmt (headers, arm64 libfmt.so, CMake config)   libfmt-dev:arm64 (/usr/lib/aarch64-linux-gnu)
#   moodycamel, Catch2 (header-only)               the host's libconcurrentqueue-dev, catch2
#   run-time libraries under qemu                  libc6:arm64, libstdc++6:arm64, libfmt9:arm64
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(GIDLOG_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${GIDLOG_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${GIDLOG_CROSS_TRIPLE}-g++)

# Debian's cross g++ is multiarch-aware: after its sysroot it searches /usr/include and
# /usr/lib/aarch64-linux-gnu, never /usr/lib/x86_64-linux-gnu. The find_* commands search the
# same places: the sysroot first, then the host's prefixes with the aarch64-linux-gnu multiarch
# subdirectory (which CMAKE_LIBRARY_ARCHITECTURE names, so the host's x86_64 libraries and fmt
# config are never candidates). That finds fmt's arm64 config in
# /usr/lib/aarch64-linux-gnu/cmake/fmt (which imports /usr/lib/aarch64-linux-gnu/libfmt.so),
# moodycamel in /usr/include/concurrentqueue and Catch2's config in /usr/lib/cmake/Catch2; both
# are header-only, so the host's architecture-independent copies are right for the target.
# Programs (qemu, the host's cmake) always come from the host.
set(CMAKE_LIBRARY_ARCHITECTURE ${GIDLOG_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${GIDLOG_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Run time: qemu-aarch64 -L PREFIX looks every path the guest opens up under PREFIX first and
# falls back to the host path. ld.so and libc.so must come from the same glibc build, so the
# guest must get all of its C runtime from ONE place:
#   - "/" (no remapping) when Debian's multiarch libc6:arm64 is installed (libfmt9:arm64 depends on
#     it, so every full build has it): /lib/ld-linux-aarch64.so.1 loads libc, libstdc++ and libfmt
#     from /lib/aarch64-linux-gnu and /usr/lib/aarch64-linux-gnu, all from the same archive, as on
#     an arm64 Debian machine. The cross sysroot is then used only at link time (same glibc 2.36
#     and GCC 12 ABI). The sysroot's ld.so must NOT be used here: its default search path is the
#     same multiarch directories, so it would load the multiarch libc of another Debian revision.
#   - the cross sysroot /usr/aarch64-linux-gnu otherwise (gid-only builds on a machine without
#     arm64 multiarch): its ld.so finds its own libc and libstdc++ under the prefix. Only then:
#     once libc6:arm64 is installed, that ld.so finds the multiarch libc first (seen here: the
#     program hung at start-up), which is why the choice follows /lib/ld-linux-aarch64.so.1.
# An explicit -L also overrides a QEMU_LD_PREFIX left in the caller's environment. Set
# GIDLOG_QEMU_LD_PREFIX on the cmake command line to choose another root.
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(_gidlog_qemu_default_prefix /)
else()
  set(_gidlog_qemu_default_prefix /usr/${GIDLOG_CROSS_TRIPLE})
endif()
set(GIDLOG_QEMU_LD_PREFIX ${_gidlog_qemu_default_prefix} CACHE PATH
  "Root qemu-aarch64 -L resolves the guest's ld.so and shared libraries in (/ = Debian multiarch)")
find_program(GIDLOG_QEMU_AARCH64 qemu-aarch64 DOC "qemu-user's aarch64 emulator (Debian package qemu-user)")
if(NOT GIDLOG_QEMU_AARCH64)
  set(GIDLOG_QEMU_AARCH64 qemu-aarch64)  # not installed: tests/arch/run_aarch64.sh names the package
endif()
set(_gidlog_qemu ${GIDLOG_QEMU_AARCH64} -L ${GIDLOG_QEMU_LD_PREFIX})
string(JOIN " " _gidlog_qemu_line ${_gidlog_qemu})

# qemu -E adds variables to the guest's environment, so only programs run under the emulator see
# them (and their children inherit them):
#   GIDLOG_TEST_EMULATOR    the emulator's command line. A test that starts its own executable
#                           again must exec it through qemu (tests/support/self_exec.h): without
#                           a binfmt_misc handler for aarch64 (package qemu-user-binfmt, rarely
#                           usable in a container) execve() of it fails with ENOEXEC.
#   GIDLOG_TEST_TIME_SCALE  multiplies deadlines that a woken thread must beat
#                           (tests/support/test_timing.h): under emulation on a loaded 2-core
#                           machine a wake-up has taken more than 5 ms.
set(CMAKE_CROSSCOMPILING_EMULATOR ${_gidlog_qemu}
  -E "GIDLOG_TEST_EMULATOR=${_gidlog_qemu_line},GIDLOG_TEST_TIME_SCALE=20")
