# Cross build for aarch64 Linux with Debian's g++-aarch64-linux-gnu; test binaries run under
# qemu-user (package qemu-user) through CMAKE_CROSSCOMPILING_EMULATOR, so `ctest` works as usual.
# Used by the `aarch64` preset, which builds only the gid and arch layer (GIDLOG_GID_ONLY=ON).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(GIDLOG_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${GIDLOG_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${GIDLOG_CROSS_TRIPLE}-g++)

# Target libraries and headers come from the cross sysroot only; build tools and header-only
# CMake packages (Catch2) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${GIDLOG_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# -L: qemu looks up the dynamic loader and shared libraries (libc, libstdc++) in the sysroot.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/${GIDLOG_CROSS_TRIPLE})
