# wedge_man.cmake - cmake -DWEDGE=path/to/wedge -DOUT=wedge.1 -DVERSION=x.y.z -P wedge_man.cmake
# Writes a man page whose sections are the program's own help texts, shown verbatim.
function(help_of out)
  execute_process(COMMAND ${WEDGE} ${ARGN} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${WEDGE} ${ARGN} exited ${rc}")
  endif()
  # roff: a leading '.' or "'" starts a request; backslashes escape
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

help_of(general --help)
set(page ".TH WEDGE 1 \"\" \"wedge ${VERSION}\" \"User Commands\"\n.SH NAME\nwedge \\- a race-interleaving fuzzer for multithreaded programs\n.SH SYNOPSIS\n.nf\n${general}.fi\n")
foreach(cmd run replay minimize merge)
  string(TOUPPER ${cmd} up)
  help_of(text help ${cmd})
  string(APPEND page ".SH \"WEDGE ${up}\"\n.nf\n${text}.fi\n")
endforeach()
string(APPEND page ".SH SEE ALSO\nREADME.md of the wedge sources: modes, tokens, reports, CI gating.\n")
file(WRITE ${OUT} "${page}")
