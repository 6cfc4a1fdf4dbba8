# The libraries src/introspect uses, found as imported targets (included by the build and, for a
# static libgidlog, by the installed gidlogConfig.cmake, with the same options):
#   GIDLOG_LIBDW         elfutils libdw (Debian libdw-dev): stack frames get file:line and the
#                        names of internal functions. OFF: dladdr() names only.
#                        -> target gidlog_dep_libdw, compile definition GIDLOG_HAS_LIBDW
#   GIDLOG_DEBUG_SERVER  cpp-httplib (Debian libcpp-httplib-dev) for gidlog::debug_server. OFF:
#                        its constructor throws std::runtime_error.
#                        -> target gidlog_dep_httplib
#   GIDLOG_ZLIB          zlib (Debian zlib1g-dev) gzips rotated files (src/sinks: not introspection,
#                        but found the same way). OFF: rotation::compress = gzip is rejected by start().
#                        -> target gidlog_dep_zlib, compile definition GIDLOG_HAS_ZLIB
# find_library() honours the cross toolchain's CMAKE_LIBRARY_ARCHITECTURE, so the aarch64 build
# finds the arm64 packages (libdw-dev:arm64, libcpp-httplib-dev:arm64) and never the host's.
if(CMAKE_CROSSCOMPILING AND CMAKE_LIBRARY_ARCHITECTURE)
  set(_gidlog_dep_arch ":${CMAKE_LIBRARY_ARCHITECTURE}")
  string(REGEX REPLACE "-linux-gnu$" "" _gidlog_dep_arch "${_gidlog_dep_arch}")
  string(REPLACE "aarch64" "arm64" _gidlog_dep_arch "${_gidlog_dep_arch}")
else()
  set(_gidlog_dep_arch "")
endif()

if(GIDLOG_LIBDW AND NOT TARGET gidlog_dep_libdw)
  find_path(GIDLOG_LIBDW_INCLUDE_DIR elfutils/libdwfl.h)
  find_library(GIDLOG_LIBDW_LIBRARY dw)
  if(NOT GIDLOG_LIBDW_INCLUDE_DIR OR NOT GIDLOG_LIBDW_LIBRARY)
    message(FATAL_ERROR "gidlog: elfutils libdw not found (elfutils/libdwfl.h, libdw.so), needed to symbolize "
      "thread stacks. Install it (Debian: apt-get install libdw-dev${_gidlog_dep_arch}) or configure with "
      "-DGIDLOG_LIBDW=OFF (stacks then name exported functions only, without file:line).")
  endif()
  add_library(gidlog_dep_libdw UNKNOWN IMPORTED)
  set_target_properties(gidlog_dep_libdw PROPERTIES IMPORTED_LOCATION "${GIDLOG_LIBDW_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${GIDLOG_LIBDW_INCLUDE_DIR}")
endif()

if(GIDLOG_DEBUG_SERVER AND NOT TARGET gidlog_dep_httplib)
  find_path(GIDLOG_HTTPLIB_INCLUDE_DIR httplib.h)
  find_library(GIDLOG_HTTPLIB_LIBRARY cpp-httplib)
  if(NOT GIDLOG_HTTPLIB_INCLUDE_DIR OR NOT GIDLOG_HTTPLIB_LIBRARY)
    message(FATAL_ERROR "gidlog: cpp-httplib not found (httplib.h, libcpp-httplib.so), needed by "
      "gidlog::debug_server. Install it (Debian: apt-get install libcpp-httplib-dev${_gidlog_dep_arch}) or "
      "configure with -DGIDLOG_DEBUG_SERVER=OFF (the debug server's constructor then throws).")
  endif()
  # The compiled library's classes change layout with the features it was built with
  # (CPPHTTPLIB_OPENSSL_SUPPORT adds members): take its definitions from its pkg-config file.
  get_filename_component(_gidlog_httplib_dir "${GIDLOG_HTTPLIB_LIBRARY}" DIRECTORY)
  set(_gidlog_httplib_defs "")
  if(EXISTS "${_gidlog_httplib_dir}/pkgconfig/cpp-httplib.pc")
    file(STRINGS "${_gidlog_httplib_dir}/pkgconfig/cpp-httplib.pc" _gidlog_httplib_cflags REGEX "^Cflags:")
    string(REGEX MATCHALL "-DCPPHTTPLIB_[A-Z0-9_]+" _gidlog_httplib_defs "${_gidlog_httplib_cflags}")
    list(TRANSFORM _gidlog_httplib_defs REPLACE "^-D" "")
  endif()
  add_library(gidlog_dep_httplib UNKNOWN IMPORTED)
  set_target_properties(gidlog_dep_httplib PROPERTIES IMPORTED_LOCATION "${GIDLOG_HTTPLIB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${GIDLOG_HTTPLIB_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "${_gidlog_httplib_defs}")
endif()

if(GIDLOG_ZLIB AND NOT TARGET gidlog_dep_zlib)
  find_path(GIDLOG_ZLIB_INCLUDE_DIR zlib.h)
  find_library(GIDLOG_ZLIB_LIBRARY z)
  if(NOT GIDLOG_ZLIB_INCLUDE_DIR OR NOT GIDLOG_ZLIB_LIBRARY)
    message(FATAL_ERROR "gidlog: zlib not found (zlib.h, libz.so), needed to gzip rotated files. Install it "
      "(Debian: apt-get install zlib1g-dev${_gidlog_dep_arch}) or configure with -DGIDLOG_ZLIB=OFF "
      "(rotation::compress = gzip is then rejected by start()).")
  endif()
  add_library(gidlog_dep_zlib UNKNOWN IMPORTED)
  set_target_properties(gidlog_dep_zlib PROPERTIES IMPORTED_LOCATION "${GIDLOG_ZLIB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${GIDLOG_ZLIB_INCLUDE_DIR}")
endif()
