# Compiler flags of a KVB_FUZZ=ON build (included from the top CMakeLists.txt before any
# library is added). Every library gets libFuzzer's coverage instrumentation and ASan+UBSan;
# the fuzz targets themselves link libFuzzer's main (fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "KVB_FUZZ=ON needs clang (libFuzzer): configure with "
                      "CC=clang CXX=clang++ (or the `fuzz` preset)")
endif()
if(KVB_SANITIZE)
  message(FATAL_ERROR "KVB_FUZZ=ON brings its own sanitizers; leave KVB_SANITIZE empty")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=undefined -gline-tables-only)
add_link_options(-fsanitize=address,undefined)
