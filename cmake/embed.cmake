# kgrade_embed(<target-var> <symbol> <file>): generate a C file that defines
#   const char <symbol>[];  const unsigned long <symbol>_len;
# holding <file>'s bytes plus a terminating NUL, rebuilt when the file changes.
function(kgrade_embed out_var symbol file)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${file})
  set(dst ${CMAKE_CURRENT_BINARY_DIR}/embed_${symbol}.c)
  add_custom_command(
    OUTPUT ${dst}
    COMMAND ${CMAKE_COMMAND} -DSRC=${src} -DDST=${dst} -DSYM=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${src} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${file}")
  set(${out_var} ${dst} PARENT_SCOPE)
endfunction()
