// The source of gidlog_test_pch (tests/CMakeLists.txt), the target that precompiles the tests' shared header.
