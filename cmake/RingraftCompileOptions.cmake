# Warning and sanitizer flags shared by every ringraft target (applied through
# ringraft_options, an interface library each module links privately or publicly).
add_library(ringraft_options INTERFACE)
target_compile_options(ringraft_options INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                                                  -Wold-style-cast -Wcast-align -Wunused
                                                  -Woverloaded-virtual -Wimplicit-fallthrough)
if(RINGRAFT_WERROR)
  target_compile_options(ringraft_options INTERFACE -Werror)
endif()
# The include root is the repository root: #include "reactor/shard.h".
target_include_directories(ringraft_options INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/ringraft>)

if(RINGRAFT_SANITIZE)
  # Applied globally so that test and benchmark executables link the runtime too.
  add_compile_options(-fsanitize=${RINGRAFT_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${RINGRAFT_SANITIZE})
endif()
