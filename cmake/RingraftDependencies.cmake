# Every dependency comes from Debian's packages (tools/deps.sh installs them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing>=2.3)
pkg_check_modules(LIBISAL REQUIRED IMPORTED_TARGET libisal)
find_package(fmt REQUIRED)
find_package(FlatBuffers REQUIRED)
find_program(FLATC_EXECUTABLE flatc REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
if(RINGRAFT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(RINGRAFT_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# ringraft_flatbuffers_generate(<target> <schema>...): creates the custom target <target>, which
# runs flatc at build time into build/generated/<dir of schema>/<name>_generated.h.
function(ringraft_flatbuffers_generate target)
  foreach(schema IN LISTS ARGN)
    get_filename_component(schema_abs "${schema}" ABSOLUTE)
    get_filename_component(schema_name "${schema}" NAME_WE)
    get_filename_component(schema_dir "${schema_abs}" DIRECTORY)
    file(RELATIVE_PATH schema_rel_dir "${PROJECT_SOURCE_DIR}" "${schema_dir}")
    set(out_dir "${PROJECT_BINARY_DIR}/generated/${schema_rel_dir}")
    set(out_header "${out_dir}/${schema_name}_generated.h")
    add_custom_command(
      OUTPUT "${out_header}"
      COMMAND ${FLATC_EXECUTABLE} --cpp --scoped-enums -o "${out_dir}" "${schema_abs}"
      DEPENDS "${schema_abs}"
      COMMENT "flatc ${schema}"
      VERBATIM)
    list(APPEND generated "${out_header}")
  endforeach()
  add_custom_target(${target} DEPENDS ${generated})
endfunction()
