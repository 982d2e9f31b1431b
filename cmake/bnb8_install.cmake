# Installation: the library, the one public header, a find_package(bnb8) config exporting bnb8::bnb8,
# and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS bnb8 EXPORT bnb8Targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/bnb8.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(BNB8_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/bnb8)
install(EXPORT bnb8Targets NAMESPACE bnb8:: DESTINATION ${BNB8_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bnb8Config.cmake.in
                              ${PROJECT_BINARY_DIR}/bnb8Config.cmake INSTALL_DESTINATION ${BNB8_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/bnb8ConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/bnb8Config.cmake ${PROJECT_BINARY_DIR}/bnb8ConfigVersion.cmake
        DESTINATION ${BNB8_CMAKE_DIR})

file(RELATIVE_PATH BNB8_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/bnb8.pc.in ${PROJECT_BINARY_DIR}/bnb8.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/bnb8.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
