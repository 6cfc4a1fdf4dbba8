# Builds tests/consumer/app/main.cpp against gidlog the ways a downstream project does, runs it and
# checks the line it logged. The consumer sets no C++ standard: gidlog must bring C++20 itself.
#   MODE=install     install GIDLOG_BUILD_DIR into a scratch prefix, find_package(gidlog CONFIG)
#   MODE=pkgconfig   the same prefix, then `c++ main.cpp $(pkg-config --cflags --libs gidlog)`
#   MODE=subdir      add_subdirectory(GIDLOG_SOURCE_DIR)
#   MODE=shared      build GIDLOG_SOURCE_DIR with BUILD_SHARED_LIBS=ON, install it, then both of
#                    the first two; each program must load libgidlog.so.<SOVERSION>
#   MODE=headers     install as for MODE=install, check which headers are installed (the test
#                    seam detail/gid_table.h not; the headers by topic and the old paths that
#                    forward to them, yes), then build headers_alone/: every installed public
#                    header compiled alone, and each old path used alone for what it declared
# The optional-dependency check is separate: MODE=no_optional configures GIDLOG_SOURCE_DIR with
# Google Benchmark and spdlog hidden and checks that tests and examples are still generated.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(last_out "${out}${err}" PARENT_SCOPE)
endfunction()

# Runs the program `exe`, checks its one log line.
function(check_app exe)
  set(log_file ${WORK_DIR}/consumer.log)
  file(REMOVE ${log_file})
  run(${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/lib ${exe} ${log_file})
  file(READ ${log_file} log)
  if(NOT log MATCHES "^\\[[0-9][0-9][0-9][0-9]/[0-9][0-9][0-9][0-9][0-9][0-9]\\.[0-9][0-9][0-9]:INFO:gid-[0-9]+:main\\.cpp:[0-9]+\\] consumer says 42\n$")
    message(FATAL_ERROR "unexpected log from ${exe}:\n${log}")
  endif()
  message(STATUS "${exe}: ${log}")
endfunction()

# Requires that `exe` loads the shared libgidlog (or, with `static`, that it does not).
function(check_linkage exe kind)
  run(readelf -d ${exe})
  if(kind STREQUAL "shared" AND NOT last_out MATCHES "NEEDED[^\n]*libgidlog\\.so\\.${SOVERSION}\\]")
    message(FATAL_ERROR "${exe} does not load libgidlog.so.${SOVERSION}:\n${last_out}")
  elseif(kind STREQUAL "static" AND last_out MATCHES "libgidlog\\.so")
    message(FATAL_ERROR "${exe} loads a shared libgidlog although it was built static:\n${last_out}")
  endif()
endfunction()

function(build_with_find_package kind)
  run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build_cmake -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/build_cmake -j2)
  check_linkage(${WORK_DIR}/build_cmake/consumer_app ${kind})
  check_app(${WORK_DIR}/build_cmake/consumer_app)
endfunction()

function(build_with_pkg_config kind)
  find_program(PKG_CONFIG pkg-config REQUIRED)
  set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
  run(${PKG_CONFIG} --cflags --libs gidlog)
  string(STRIP "${last_out}" flags)
  message(STATUS "pkg-config --cflags --libs gidlog: ${flags}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CXX} -O2 ${CONSUMER_SOURCE_DIR}/main.cpp ${flags} -o ${WORK_DIR}/consumer_pc)
  check_linkage(${WORK_DIR}/consumer_pc ${kind})
  check_app(${WORK_DIR}/consumer_pc)
endfunction()

# Installs use lib/ rather than a multiarch directory so the scratch prefix is predictable.
set(install_dirs -DCMAKE_INSTALL_LIBDIR=lib)
# The two modes that compile gidlog again do it without optimisation or debug information: they
# check how the package builds and links, not how fast it runs. At -O3 the two (run side by side
# by ctest -j2) took 181 and 188 s of the CI machine; at -O0 the library builds in 38 s instead of 60.
set(quick_build -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0)

if(MODE STREQUAL "subdir")
  run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build -DGIDLOG_SOURCE_DIR=${GIDLOG_SOURCE_DIR}
      -DCMAKE_CXX_COMPILER=${CXX} ${quick_build})
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
  check_app(${WORK_DIR}/build/consumer_app)
elseif(MODE STREQUAL "install" OR MODE STREQUAL "pkgconfig")
  run(${CMAKE_COMMAND} --install ${GIDLOG_BUILD_DIR} --prefix ${prefix})
  if(NOT EXISTS ${prefix}/lib/pkgconfig/gidlog.pc OR NOT EXISTS ${prefix}/include/gidlog/arch/cpu.h
     OR EXISTS ${prefix}/include/gidlog_cpu.h)
    message(FATAL_ERROR "install layout: want lib/pkgconfig/gidlog.pc and include/gidlog/arch/cpu.h only")
  endif()
  if(MODE STREQUAL "install")
    build_with_find_package(static)
  else()
    build_with_pkg_config(static)
  endif()
elseif(MODE STREQUAL "headers")
  run(${CMAKE_COMMAND} --install ${GIDLOG_BUILD_DIR} --prefix ${prefix})
  set(inc ${prefix}/include/gidlog)
  if(EXISTS ${inc}/detail/gid_table.h)
    message(FATAL_ERROR "the test seam detail/gid_table.h was installed")
  endif()
  # The headers by topic, then the old paths that forward to them until 0.3.
  foreach(h sinks/sink.h sinks/console.h sinks/file.h sinks/rotating_file.h sinks/json.h sinks/syslog.h
            sinks/journald.h format.h testing/leak_check.h testing/catch2.h runtime/task_registry.h
            sink.h file_sinks.h syslog_sink.h journald_sink.h runtime/tasks.h runtime/leak_check.h
            runtime/catch2.h)
    if(NOT EXISTS ${inc}/${h})
      message(FATAL_ERROR "not installed: include/gidlog/${h}")
    endif()
  endforeach()
  run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build_headers -DCMAKE_PREFIX_PATH=${prefix}
      -DGIDLOG_HEADERS_DIR=${prefix}/include -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
  message(STATUS "${last_out}")
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/build_headers -j2)
elseif(MODE STREQUAL "shared")
  # The library alone: gidlog-trace (a host tool, ~45 s to build) has nothing to do with linking.
  run(${CMAKE_COMMAND} -S ${GIDLOG_SOURCE_DIR} -B ${WORK_DIR}/gidlog_build -DBUILD_SHARED_LIBS=ON
      -DGIDLOG_BUILD_TESTS=OFF -DGIDLOG_BUILD_BENCH=OFF -DGIDLOG_BUILD_EXAMPLES=OFF -DGIDLOG_BUILD_TOOLS=OFF
      -DCMAKE_CXX_COMPILER=${CXX} ${quick_build} ${install_dirs})
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/gidlog_build -j2)
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/gidlog_build --prefix ${prefix})
  if(NOT EXISTS ${prefix}/lib/libgidlog.so.${SOVERSION})
    message(FATAL_ERROR "no ${prefix}/lib/libgidlog.so.${SOVERSION} after a BUILD_SHARED_LIBS=ON install")
  endif()
  build_with_find_package(shared)
  build_with_pkg_config(shared)
elseif(MODE STREQUAL "no_optional")
  run(${CMAKE_COMMAND} -S ${GIDLOG_SOURCE_DIR} -B ${WORK_DIR}/gidlog_build
      -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON -DCMAKE_DISABLE_FIND_PACKAGE_spdlog=ON
      -DGIDLOG_BUILD_TESTS=ON -DGIDLOG_BUILD_BENCH=ON -DGIDLOG_BUILD_EXAMPLES=ON
      -DCMAKE_CXX_COMPILER=${CXX})
  foreach(skipped "Google Benchmark not found" "spdlog not found")
    string(FIND "${last_out}" "${skipped}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "configure did not say '${skipped}':\n${last_out}")
    endif()
  endforeach()
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/gidlog_build --target help)
  foreach(target gidlog gidlog_unit_tests it_basic quick_start service)
    if(NOT last_out MATCHES "\\.\\.\\. ${target}\n")
      message(FATAL_ERROR "target ${target} missing without the optional packages:\n${last_out}")
    endif()
  endforeach()
  if(last_out MATCHES "\\.\\.\\. (bm_log|latency)\n")
    message(FATAL_ERROR "benchmark targets generated although their packages were hidden")
  endif()
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()
