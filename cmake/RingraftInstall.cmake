# `cmake --install` puts headers under include/ringraft/<module>/ and a CMake package in
# lib/cmake/ringraft, so that an embedder writes:
#   find_package(ringraft REQUIRED)
#   target_link_libraries(app PRIVATE ringraft::ringraft)
include(CMakePackageConfigHelpers)

set_target_properties(ringraft_options PROPERTIES EXPORT_NAME options)
set_target_properties(ringraft PROPERTIES EXPORT_NAME ringraft)
set(installed_targets ringraft ringraft_options ringraft_common ringraft_reactor ringraft_net)
foreach(module_target ringraft_wal ringraft_raft_core ringraft_raft_replica)
  if(TARGET ${module_target})
    list(APPEND installed_targets ${module_target})
  endif()
endforeach()
install(TARGETS ${installed_targets}
        EXPORT ringraftTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

foreach(module common reactor net wal raft)
  if(NOT EXISTS ${PROJECT_SOURCE_DIR}/${module})
    continue()
  endif()
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ringraft/${module}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(DIRECTORY ${PROJECT_BINARY_DIR}/generated/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ringraft
        FILES_MATCHING PATTERN "*.h")

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ringraft)
install(EXPORT ringraftTargets NAMESPACE ringraft:: DESTINATION ${config_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ringraftConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/ringraftConfig.cmake
                              INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ringraftConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ringraftConfig.cmake
              ${PROJECT_BINARY_DIR}/ringraftConfigVersion.cmake
        DESTINATION ${config_dir})
