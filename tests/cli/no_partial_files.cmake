# export, report, plot and samples write whole files or none: an error midway leaves no file (and
# no temporary) behind and an earlier file at the destination untouched; commands that only read
# never create a database or its folder.
# Usage: cmake -DGANTRY=... -DDB=tiny.db -DWORK=folder -P no_partial_files.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/earlier.csv "an earlier export\n")
file(SHA256 ${WORK}/earlier.csv before)

function(expect_error message)
  execute_process(COMMAND ${GANTRY} ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 2 OR NOT err STREQUAL "gantry: error: ${message}\n")
    message(FATAL_ERROR "gantry ${ARGN}: exit ${code}, expected 2\n${out}${err}expected: gantry: error: ${message}")
  endif()
endfunction()

set(available "(available: cli-tiny)")
expect_error("no experiment named 'nope' ${available}" export nope -o ${WORK}/earlier.csv --db ${DB})
expect_error("no experiment named 'nope' ${available}" export nope -o ${WORK}/new.csv --db ${DB})
expect_error("no experiment named 'nope' ${available}" report nope -o ${WORK}/earlier.csv --db ${DB})
expect_error("no experiment named 'nope' ${available}" report nope -o ${WORK}/new.html --db ${DB})
expect_error("run 1 has no picture at step 7 (steps: 0, 10, 20)" samples 1 --step 7 -o ${WORK}/earlier.csv --db ${DB})
expect_error("cannot write ${WORK}/missing/x.csv: No such file or directory"
  export cli-tiny -o ${WORK}/missing/x.csv --db ${DB})
expect_error("cannot write ${WORK}: it is a folder" export cli-tiny -o ${WORK} --db ${DB})
foreach(command status runs "show;1" "query;SELECT 1" "export;cli-tiny")
  expect_error("no database at ${WORK}/nowhere/x.db (run an experiment first, or pass --db)"
    ${command} --db ${WORK}/nowhere/x.db)
endforeach()

file(SHA256 ${WORK}/earlier.csv after)
if(NOT before STREQUAL after)
  message(FATAL_ERROR "a failed command changed the earlier file")
endif()
file(GLOB left RELATIVE ${WORK} ${WORK}/*)
if(NOT left STREQUAL "earlier.csv")
  message(FATAL_ERROR "left behind: ${left}")
endif()

# And on success the destination is replaced whole, keeping its permissions.
file(CHMOD ${WORK}/earlier.csv PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
execute_process(COMMAND ${GANTRY} export cli-tiny -o ${WORK}/earlier.csv --db ${DB} RESULT_VARIABLE code ERROR_QUIET)
file(STRINGS ${WORK}/earlier.csv head LIMIT_COUNT 1)
execute_process(COMMAND stat -c %a ${WORK}/earlier.csv OUTPUT_VARIABLE mode OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT code EQUAL 0 OR NOT head MATCHES "^run_id,seed,status," OR NOT mode STREQUAL "640")
  message(FATAL_ERROR "export over an earlier file: exit ${code}, starts '${head}', mode ${mode}")
endif()
message("no partial files: ok")
