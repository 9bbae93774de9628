# cmake --install: bin/sigode, its modules in <libdir>/sigode (SBML:
# sigode-sbml.so; MPI: sigode-mpi.so; opened on first use:
# src/util/module.c), libsigode.so
# (SONAME) and libsigode.a,
# include/sigode.h, sigode.pc for pkg-config, a CMake package
# (find_package(sigode) gives sigode::sigode), the man page sigode(1) and
# the bash completion. Every path is relative to the prefix given at
# install time (cmake --install build --prefix ~/.local).
install(TARGETS sigode_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS sigode_sbml_module LIBRARY DESTINATION ${SIGODE_INSTALL_MODULEDIR})
if(SIGODE_MPI)
  install(TARGETS sigode_mpi_module LIBRARY DESTINATION ${SIGODE_INSTALL_MODULEDIR})
endif()
install(TARGETS sigode_shared EXPORT sigodeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS sigode ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES include/sigode.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# pkg-config: the prefix is found from the .pc file's own place, so the
# file is right wherever --prefix puts it. Requires.private and
# Libs.private are for `pkg-config --static`; the shared library needs
# only -lsigode.
file(RELATIVE_PATH SIGODE_PC_TO_PREFIX
  "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" SIGODE_PC_TO_PREFIX "${SIGODE_PC_TO_PREFIX}")
set(SIGODE_PC_SUNDIALS "")
if(SIGODE_SUNDIALS_KIND STREQUAL "static")
  set(SIGODE_PC_SUNDIALS "-L${SIGODE_SUNDIALS_DIR}/lib ")
endif()
if(SIGODE_CVODE_SPLIT)
  # libsigode.a's sensitivities call the renamed copy of CVODES
  # (scripts/rename-cvodes.sh), installed beside it
  install(FILES ${SIGODE_CVODES_RENAMED} DESTINATION ${CMAKE_INSTALL_LIBDIR})
  string(APPEND SIGODE_PC_SUNDIALS "-lsigode_cvodes -lsundials_cvode ")
else()
  string(APPEND SIGODE_PC_SUNDIALS "-lsundials_cvodes ")
endif()
string(APPEND SIGODE_PC_SUNDIALS
  "-lsundials_kinsol -lsundials_sunlinsolklu -lsundials_sunlinsoldense "
  "-lsundials_sunmatrixdense -lsundials_sunmatrixsparse -lsundials_nvecserial "
  "-lklu -lamd -lcolamd -lbtf -lsuitesparseconfig -llapack -lblas")
configure_file(cmake/sigode.pc.in ${CMAKE_BINARY_DIR}/sigode.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/sigode.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: sigode::sigode (the shared library)
include(CMakePackageConfigHelpers)
install(EXPORT sigodeTargets NAMESPACE sigode:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sigode)
configure_package_config_file(cmake/sigodeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/sigodeConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sigode)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/sigodeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/sigodeConfig.cmake ${CMAKE_BINARY_DIR}/sigodeConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sigode)

# The man page, written in scdoc (doc/sigode.1.scd) and converted at build
# time; tests/install checks it names every option of every command.
find_program(SCDOC scdoc)
if(SCDOC)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/sigode.1
    COMMAND ${SCDOC} < ${PROJECT_SOURCE_DIR}/doc/sigode.1.scd > ${CMAKE_BINARY_DIR}/sigode.1
    DEPENDS ${PROJECT_SOURCE_DIR}/doc/sigode.1.scd VERBATIM)
  add_custom_target(sigode_man ALL DEPENDS ${CMAKE_BINARY_DIR}/sigode.1)
  install(FILES ${CMAKE_BINARY_DIR}/sigode.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "scdoc not found: no man page (scripts/bootstrap.sh installs it)")
endif()

# bash completion, where bash-completion looks for it under the prefix
# (share/bash-completion/completions, loaded on demand)
install(FILES doc/sigode.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME sigode)
