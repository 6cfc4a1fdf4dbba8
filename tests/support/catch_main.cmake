# Catch's main (CATCH_CONFIG_MAIN: the whole test runner), one object per build for every test
# executable, compiled without optimisation: at the release flags this one file took 27 s of the
# 2-core CI machine and was compiled twice per build (test support and arch tests); at -O0 it
# takes 11 s once. The runner is not what the tests measure, nor what the sanitizers check: it is
# compiled without their instrumentation (-fno-sanitize=all; 33 s -> 12 s in the asan preset).
# Catch runs the test cases on the main thread and shares nothing with the threads they start.
include_guard(GLOBAL)
add_library(gidlog_catch_main OBJECT ${CMAKE_CURRENT_LIST_DIR}/catch_main.cpp)
target_link_libraries(gidlog_catch_main PUBLIC Catch2::Catch2)
target_compile_options(gidlog_catch_main PRIVATE -O0 -fno-sanitize=all)
