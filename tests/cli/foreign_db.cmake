# Every command that opens a database refuses a file that is not gantry's with exit code 2 and one
# message naming it, and leaves the file byte-identical with nothing (-wal, -shm, output) beside it.
# Usage: cmake -DGANTRY=... -DEXPERIMENT=tiny.toml -DWORK=folder -P foreign_db.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND sqlite3 ${WORK}/foreign.db
  "PRAGMA journal_mode = WAL; CREATE TABLE notes(x); CREATE TABLE accounts(y); INSERT INTO notes VALUES (1)"
  RESULT_VARIABLE code OUTPUT_QUIET)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "sqlite3 could not make the foreign database")
endif()
execute_process(COMMAND sqlite3 ${WORK}/other_id.db
  "PRAGMA application_id = 1234; CREATE TABLE experiments(id, name, source); CREATE TABLE runs(id)" OUTPUT_QUIET)
file(WRITE ${WORK}/text.db "name,value\nnot,a database\n")
set(why_foreign.db "it has tables: accounts, notes; application_id 0x00000000")
set(why_other_id.db "it has tables: experiments, runs; application_id 0x000004d2")
set(why_text.db "file is not a database")

set(commands "run|${EXPERIMENT}" "status" "runs" "show|1" "compare|cli-tiny|--metric|modes.modes" "query|SELECT 1"
  "export|cli-tiny" "export|cli-tiny|-o|${WORK}/x.csv" "report|cli-tiny|-o|${WORK}/r.html"
  "plot|cli-tiny|--metric|modes.modes|-o|${WORK}/p.png" "samples|1|-o|${WORK}/s.png")
foreach(name foreign.db other_id.db text.db)
  set(db ${WORK}/${name})
  file(SHA256 ${db} before)
  foreach(command ${commands})
    string(REPLACE "|" ";" args "${command}")
    execute_process(COMMAND ${GANTRY} ${args} --db ${db} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(expected "gantry: error: ${db} is not a gantry results database (${why_${name}})\n")
    if(NOT code EQUAL 2 OR NOT err STREQUAL expected)
      message(FATAL_ERROR "gantry ${args} on ${name}: exit ${code}, expected 2\n${out}${err}expected: ${expected}")
    endif()
  endforeach()
  file(SHA256 ${db} after)
  if(NOT before STREQUAL after)
    message(FATAL_ERROR "${name} changed: sha256 ${before} -> ${after}")
  endif()
endforeach()
file(GLOB left RELATIVE ${WORK} ${WORK}/*)
list(SORT left)
if(NOT left STREQUAL "foreign.db;other_id.db;text.db")
  message(FATAL_ERROR "files beside the databases: ${left}")
endif()
message("foreign databases refused and unchanged: ok")
