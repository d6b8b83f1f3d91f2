# Project helpers, in the spirit of Abseil's absl_cc_library: each folder's
# CMakeLists.txt is a short declarative list of these calls.

include(GNUInstallDirs)
# Installed headers keep their repo-root paths under this prefix: include/kvbench/core/status.h.
set(KVB_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/kvbench)

set(KVB_WARNINGS -Wall -Wextra -Wno-unused-parameter)
# GCC 12's -Wrestrict misfires inside libstdc++ on `"k" + std::to_string(i)`
# (GCC bug 105329), which would fail -Werror builds on correct code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND KVB_WARNINGS -Wno-restrict)
endif()
if(KVB_WERROR)
  list(APPEND KVB_WARNINGS -Werror)
endif()

if(KVB_SANITIZE STREQUAL "address")
  # UBSan without `vptr` (the dynamic-type check of member calls and downcasts): it cost a
  # quarter of the ASan build's compile time (harness/cli.cc 38.9 s with it, 29.9 s
  # without), and it guards downcasts, which a grep finds none of here (the polymorphic
  # types, Adapter, Env and File, are used through their interfaces).
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(KVB_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# Test executables' own code (the Catch2 cases, not the libraries they test) is compiled at a
# lower level than the build type's: their expanded assertions dominate the build's compile time
# (typedmap/tests/store_test.cc: 16.7 s at -O3, 11.2 s at -O1, 8.4 s at -O0; 35.5 s under
# ASan+UBSan -O1, 18.4 s at -O0) while their run time is spent in the libraries, which keep
# their flags.
# Set KVB_TEST_OPT_FLAGS to an empty string to compile tests with the build type's flags.
if(KVB_SANITIZE OR CMAKE_BUILD_TYPE STREQUAL "Release")
  set(KVB_TEST_OPT_FLAGS_DEFAULT -O0)
else()
  set(KVB_TEST_OPT_FLAGS_DEFAULT "")
endif()
set(KVB_TEST_OPT_FLAGS "${KVB_TEST_OPT_FLAGS_DEFAULT}" CACHE STRING
    "Optimisation flags for test executables' own sources (after the build type's)")

# kvb_quick_under_sanitizers(TARGET [SOURCES...]): under the sanitizers, -O0 for the code
# whose compile time dwarfs its run time in the tests: JSON and command-line handling that
# runs once per command (reports, history, results files, the CLI's parsing). Under ASan+UBSan
# harness/cli.cc took 29.9 s at -O1 and about half that at -O0. The engines, adapters,
# workloads and the runner, where the tests spend their time, keep -O1.
function(kvb_quick_under_sanitizers target)
  if(NOT KVB_SANITIZE)
    return()
  endif()
  if(ARGN)
    set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target} PROPERTIES COMPILE_OPTIONS -O0)
  else()
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()

# kvb_add_subdir(DIR): adds DIR if it has a CMakeLists.txt, so parts can land one at a time.
function(kvb_add_subdir dir)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
    add_subdirectory(${dir})
  endif()
endfunction()

# kvb_library(NAME n SRCS ... DEPS ...): a static library; includes are from the repo root
# ("core/status.h"). Installed, the same paths are kept under include/kvbench/ (cmake/install.cmake).
function(kvb_library)
  cmake_parse_arguments(K "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${K_NAME} STATIC ${K_SRCS})
  target_include_directories(${K_NAME} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                              $<INSTALL_INTERFACE:${KVB_INSTALL_INCLUDEDIR}>)
  target_compile_options(${K_NAME} PRIVATE ${KVB_WARNINGS})
  target_link_libraries(${K_NAME} PUBLIC ${K_DEPS} Threads::Threads)
endfunction()

# kvb_executable(NAME n SRCS ... DEPS ...)
function(kvb_executable)
  cmake_parse_arguments(K "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${K_NAME} ${K_SRCS})
  target_include_directories(${K_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${K_NAME} PRIVATE ${KVB_WARNINGS})
  target_link_libraries(${K_NAME} PRIVATE ${K_DEPS} Threads::Threads)
endfunction()

# kvb_test(NAME n SRCS ... DEPS ... [LABELS ...] [TIMEOUT s]): one Catch2 executable and
# one CTest entry. Label `sanitize` marks tests that the ASan/UBSan and TSan builds run;
# `single_threaded` marks tests that start no thread (pure unit tests, deterministic fault
# sweeps), which the TSan run leaves out (scripts/test.sh): TSan has no second thread to see.
# Every `sanitize` test also joins the target kvb_sanitize_tests (ASan's), and unless it is
# `single_threaded` kvb_threaded_tests (TSan's), with what it runs (its add_dependencies),
# so the sanitizer presets build only what they test (scripts/test.sh).
function(kvb_test)
  cmake_parse_arguments(K "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT KVB_BUILD_TESTS)
    return()
  endif()
  if(NOT TARGET kvb_sanitize_tests)
    add_custom_target(kvb_sanitize_tests)
    add_custom_target(kvb_threaded_tests)
  endif()
  if("sanitize" IN_LIST K_LABELS)
    add_dependencies(kvb_sanitize_tests ${K_NAME})
    if(NOT "single_threaded" IN_LIST K_LABELS)
      add_dependencies(kvb_threaded_tests ${K_NAME})
    endif()
  endif()
  add_executable(${K_NAME} ${K_SRCS})
  target_include_directories(${K_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${K_NAME} PRIVATE ${KVB_WARNINGS} ${KVB_TEST_OPT_FLAGS})
  target_link_libraries(${K_NAME} PRIVATE ${K_DEPS} kvb_catch_main Threads::Threads)
  add_test(NAME ${K_NAME} COMMAND ${K_NAME} --order rand --rng-seed 1)
  if(NOT K_TIMEOUT)
    set(K_TIMEOUT 600)
  endif()
  # Exit code 77 = skipped (core/testing/catch_main.cc, KVB_SKIP; see tests/CMakeLists.txt).
  set_tests_properties(${K_NAME} PROPERTIES TIMEOUT ${K_TIMEOUT} LABELS "${K_LABELS}"
                       SKIP_RETURN_CODE 77)
endfunction()
