# Install and export rules: `cmake --install` gives an application the targets kvbench::core,
# kvbench::linhash, kvbench::typedmap and kvbench::fileperkey through
#   find_package(kvbench CONFIG REQUIRED COMPONENTS linhash)
# and a pkg-config file per component (kvbench-linhash.pc, ...). examples/README.md is the
# user's guide; scripts/test-install.sh checks all of it against a fresh prefix.
#
# Layout under the prefix:
#   include/kvbench/core/status.h, include/kvbench/engines/linhash/linhash.h, ...
#       the repo-root include paths the sources use, so `#include "engines/linhash/linhash.h"`
#       reads the same in and out of the tree;
#   lib/libkvbench_<component>.a, lib/pkgconfig/kvbench-<component>.pc,
#   lib/cmake/kvbench/ (package config, version file, one export set per component).
#
# Only a component's public headers and the headers they include (found by reading their
# #include "..." lines) are installed: no tests, tools or internal headers nobody includes.

include(CMakePackageConfigHelpers)

set(KVB_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kvbench)
set(KVB_INSTALL_PCDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# What an installed target may link, and how a consumer gets it. Each row:
#   <target linked in this build> | <CMake code that defines it> | <pkg-config module or flag>
# kvb_install_component refuses a library that links anything else, so the package config
# can never fall behind what an engine really links.
set(_KVB_DEP_ROWS
    "Threads::Threads|set(THREADS_PREFER_PTHREAD_FLAG ON)\nfind_package(Threads QUIET)|-pthread"
    "PkgConfig::XXHASH|find_package(PkgConfig QUIET)\nif(PKG_CONFIG_FOUND)\n  pkg_check_modules(XXHASH QUIET IMPORTED_TARGET libxxhash)\nendif()|libxxhash"
    "PkgConfig::ZSTD|find_package(PkgConfig QUIET)\nif(PKG_CONFIG_FOUND)\n  pkg_check_modules(ZSTD QUIET IMPORTED_TARGET libzstd)\nendif()|libzstd"
    "ZLIB::ZLIB|find_package(ZLIB QUIET)|zlib"
    "nlohmann_json::nlohmann_json|find_package(nlohmann_json 3 QUIET)|nlohmann_json")

# _kvb_dep_row(TARGET <out-code> <out-pc>): the row for TARGET, or empty outputs.
function(_kvb_dep_row target out_code out_pc)
  set(${out_code} "" PARENT_SCOPE)
  set(${out_pc} "" PARENT_SCOPE)
  foreach(row IN LISTS _KVB_DEP_ROWS)
    string(REPLACE "|" ";" cols "${row}")
    list(GET cols 0 name)
    if(name STREQUAL target)
      list(GET cols 1 code)
      list(GET cols 2 pc)
      set(${out_code} "${code}" PARENT_SCOPE)
      set(${out_pc} "${pc}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

# _kvb_header_closure(OUT header...): the headers (repo-root paths) plus every project header
# they include, transitively. An include is resolved from the repo root, then from the
# including file's folder; one that resolves nowhere is a configure error (it would break
# an installed build). Editing a scanned header re-runs the configure step.
function(_kvb_header_closure out)
  set(todo ${ARGN})
  set(seen "")
  while(todo)
    list(POP_FRONT todo h)
    if(h IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${h})
    set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                 ${PROJECT_SOURCE_DIR}/${h})
    file(STRINGS ${PROJECT_SOURCE_DIR}/${h} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    get_filename_component(dir ${h} DIRECTORY)
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" inc "${line}")
      if(EXISTS ${PROJECT_SOURCE_DIR}/${inc})
        list(APPEND todo ${inc})
      elseif(EXISTS ${PROJECT_SOURCE_DIR}/${dir}/${inc})
        file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/${dir}/${inc})
        list(APPEND todo ${rel})
      else()
        message(FATAL_ERROR "install: ${h} includes \"${inc}\", which is not in the tree")
      endif()
    endforeach()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# _kvb_install_headers(COMPONENT DIR header...): installs the closure of the headers. A
# header outside DIR must lie in core/ (the one folder every engine may include): an engine
# header that reaches into adapters/ or workloads/ would make the package need them.
function(_kvb_install_headers comp dir)
  _kvb_header_closure(headers ${ARGN})
  get_property(done GLOBAL PROPERTY KVB_INSTALLED_HEADERS)
  foreach(h IN LISTS headers)
    if(NOT h MATCHES "^(${dir}|core)/")
      message(FATAL_ERROR "install: component ${comp} would need ${h} (outside ${dir} and core)")
    endif()
    if(h IN_LIST done)
      continue()
    endif()
    list(APPEND done ${h})
    get_filename_component(sub ${h} DIRECTORY)
    install(FILES ${PROJECT_SOURCE_DIR}/${h} DESTINATION ${KVB_INSTALL_INCLUDEDIR}/${sub})
  endforeach()
  set_property(GLOBAL PROPERTY KVB_INSTALLED_HEADERS "${done}")
endfunction()

# _kvb_write_pc(COMPONENT TARGET REQUIRES LIBS): lib/pkgconfig/kvbench-COMPONENT.pc. The
# libraries are static archives, so their own dependencies go in Requires/Libs, not the
# .private fields: a plain `pkg-config --libs kvbench-linhash` must link.
function(_kvb_write_pc comp target requires libs)
  file(RELATIVE_PATH up ${CMAKE_INSTALL_PREFIX}/${KVB_INSTALL_PCDIR} ${CMAKE_INSTALL_PREFIX})
  string(REGEX REPLACE "/$" "" up "${up}")
  get_target_property(lib ${target} OUTPUT_NAME)
  list(JOIN requires " " requires)
  list(JOIN libs " " libs)
  set(pc "${CMAKE_CURRENT_BINARY_DIR}/kvbench-${comp}.pc")
  file(WRITE ${pc} "prefix=\${pcfiledir}/${up}
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}
includedir=\${prefix}/${KVB_INSTALL_INCLUDEDIR}

Name: kvbench-${comp}
Description: kvbench ${comp} (C++20; include as \"${KVB_PC_HEADER_${comp}}\")
Version: ${PROJECT_VERSION}
Requires: ${requires}
Cflags: -I\${includedir}
Libs: -L\${libdir} -l${lib} ${libs}
")
  install(FILES ${pc} DESTINATION ${KVB_INSTALL_PCDIR})
endfunction()

# kvb_install_component(NAME comp TARGET tgt DIR dir HEADERS h... [DEPENDS comp...])
# Names library TARGET kvbench::NAME (an alias, also when kvbench is added with
# add_subdirectory and KVB_INSTALL is OFF). With KVB_INSTALL, installs it as kvbench::NAME (archive libkvbench_NAME.a), the closure of
# HEADERS (repo-root paths), the export set kvbench-NAME-targets.cmake, the find code for
# the third-party targets TARGET links, and kvbench-NAME.pc. DEPENDS names the components
# TARGET links (core for every engine).
function(kvb_install_component)
  cmake_parse_arguments(K "" "NAME;TARGET;DIR" "HEADERS;DEPENDS" ${ARGN})
  set_target_properties(${K_TARGET} PROPERTIES EXPORT_NAME ${K_NAME}
                                               OUTPUT_NAME kvbench_${K_NAME})
  target_compile_features(${K_TARGET} INTERFACE cxx_std_20)
  if(NOT TARGET kvbench::${K_NAME})
    add_library(kvbench::${K_NAME} ALIAS ${K_TARGET})  # the same name under add_subdirectory
  endif()
  if(NOT KVB_INSTALL)
    return()
  endif()
  _kvb_install_headers(${K_NAME} ${K_DIR} ${K_HEADERS})
  list(GET K_HEADERS 0 first)
  set(KVB_PC_HEADER_${K_NAME} ${first})

  set(find_code "")
  set(requires "")
  set(libs "")
  set(needs "")
  foreach(d IN LISTS K_DEPENDS)
    list(APPEND requires kvbench-${d})
  endforeach()
  get_target_property(linked ${K_TARGET} LINK_LIBRARIES)
  foreach(l IN LISTS linked)
    if(TARGET ${l})
      get_target_property(comp ${l} EXPORT_NAME)
      if(comp IN_LIST K_DEPENDS)
        continue()  # another kvbench component, loaded by the package config itself
      endif()
    endif()
    _kvb_dep_row("${l}" code pc)
    if(code STREQUAL "")
      message(FATAL_ERROR "install: ${K_TARGET} links ${l}; add a row for it to _KVB_DEP_ROWS "
                          "in cmake/install.cmake (or DEPENDS if it is a kvbench component)")
    endif()
    string(APPEND find_code "if(NOT TARGET ${l})\n${code}\nendif()\n")
    list(APPEND needs ${l})
    if(pc MATCHES "^-")
      list(APPEND libs ${pc})
    else()
      list(APPEND requires ${pc})
    endif()
  endforeach()

  set(deps "${CMAKE_CURRENT_BINARY_DIR}/kvbench-${K_NAME}-deps.cmake")
  file(WRITE ${deps} "# Generated by cmake/install.cmake: what kvbench::${K_NAME} links.\n"
                     "set(_kvb_components_${K_NAME} ${K_DEPENDS})\n"
                     "set(_kvb_targets_${K_NAME} ${needs})\n${find_code}")
  install(TARGETS ${K_TARGET} EXPORT kvbench-${K_NAME}-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT kvbench-${K_NAME}-targets NAMESPACE kvbench:: DESTINATION ${KVB_INSTALL_CMAKEDIR})
  install(FILES ${deps} DESTINATION ${KVB_INSTALL_CMAKEDIR})
  _kvb_write_pc(${K_NAME} ${K_TARGET} "${requires}" "${libs}")
  set_property(GLOBAL APPEND PROPERTY KVB_INSTALLED_COMPONENTS ${K_NAME})
endfunction()

# kvb_install_package(): the package config and version file, after every component.
function(kvb_install_package)
  get_property(KVB_COMPONENTS GLOBAL PROPERTY KVB_INSTALLED_COMPONENTS)
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kvbenchConfig.cmake.in
                                ${CMAKE_CURRENT_BINARY_DIR}/kvbenchConfig.cmake
                                INSTALL_DESTINATION ${KVB_INSTALL_CMAKEDIR})
  # 0.x: a minor version may break the API, so only the same minor version is compatible.
  write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/kvbenchConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kvbenchConfig.cmake
                ${CMAKE_CURRENT_BINARY_DIR}/kvbenchConfigVersion.cmake
          DESTINATION ${KVB_INSTALL_CMAKEDIR})
endfunction()
