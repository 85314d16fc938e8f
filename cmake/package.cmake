# package.cmake - what `cmake --install` installs besides the program and the shim: a man page
# made from the program's own help, and the CMake package (find_package(wedge) with
# wedge_add_test()).  Included from the top-level CMakeLists.txt after cli/ and preload/.
include(CMakePackageConfigHelpers)

# The man page: `wedge --help` and `wedge help COMMAND`, generated at build time by the built
# program, so that it can never disagree with the option table.
set(WEDGE_MAN ${CMAKE_BINARY_DIR}/wedge.1)
add_custom_command(OUTPUT ${WEDGE_MAN}
  COMMAND ${CMAKE_COMMAND} -DWEDGE=$<TARGET_FILE:wedge_cli> -DOUT=${WEDGE_MAN}
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_CURRENT_LIST_DIR}/wedge_man.cmake
  DEPENDS wedge_cli ${CMAKE_CURRENT_LIST_DIR}/wedge_man.cmake
  COMMENT "Generating wedge.1 from wedge help")
add_custom_target(wedge_man ALL DEPENDS ${WEDGE_MAN})
install(FILES ${WEDGE_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(WEDGE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/wedge)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/wedgeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/wedgeConfig.cmake
  INSTALL_DESTINATION ${WEDGE_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_BINDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/wedgeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/wedgeConfig.cmake ${CMAKE_BINARY_DIR}/wedgeConfigVersion.cmake
  DESTINATION ${WEDGE_CMAKE_DIR})
