# Negative compile tests: a LOG_* call with a malformed format string must not compile, and the
# error must name what is wrong (tests/compile_fail/*.cpp, each stating its expected outcome).
file(GLOB GIDLOG_COMPILE_FAIL_CASES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/compile_fail/*.cpp)
foreach(src ${GIDLOG_COMPILE_FAIL_CASES})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME "compile_fail: ${name}"
           COMMAND ${CMAKE_COMMAND} -DCXX=${CMAKE_CXX_COMPILER}
                   "-DINCLUDES=$<TARGET_PROPERTY:gidlog,INTERFACE_INCLUDE_DIRECTORIES>"
                   -DSRC=${src} -P ${CMAKE_CURRENT_SOURCE_DIR}/compile_fail/run_compile_fail.cmake)
  set_tests_properties("compile_fail: ${name}" PROPERTIES LABELS compile_fail TIMEOUT 120)
endforeach()
