#!/usr/bin/env bash
# make check-layers (run first by `make test`): the gateway's include layers
# go one way (docs/ARCHITECTURE.md, Layers). Every #include "dir/file.h" in
# core/ shm/ master/ worker/ is checked against the rules below; a wrong-way
# include prints `file:line: rule-name: what it may include` and the script
# exits 1. System and library headers (<...>) are not checked.
#
#   tests/check-layers.sh [ROOT]     ROOT defaults to the repository
#
# Rules (a file is judged by the first that matches its path):
#   core        core/**               → core/
#   shm         shm/**                → shm/, core/
#   master      master/**             → master/, shm/, core/
#   transcode   worker/transcode/**   → worker/transcode/, core/
#   clients     worker/clients/**     → worker/clients/, worker/worker.h, shm/, core/, proto/
#   request     worker/request.[ch]   → worker/request.h, worker/worker.h, worker/trace.h, shm/, core/
#   worker      worker/**             → worker/, shm/, core/, proto/
# and, over all of worker/:
#   driver      worker/pipeline.h only from worker/pipeline.c, worker/worker.c,
#               worker/errfilter.c (the h2o entry points), never from a stage
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

find core shm master worker -name '*.[ch]' 2>/dev/null | LC_ALL=C sort | xargs awk '
function allowed(file, inc) {
    if (file ~ /^core\//)
        return inc ~ /^core\//
    if (file ~ /^shm\//)
        return inc ~ /^(shm|core)\//
    if (file ~ /^master\//)
        return inc ~ /^(master|shm|core)\//
    if (file ~ /^worker\/transcode\//)
        return inc ~ /^(worker\/transcode|core)\//
    if (file ~ /^worker\/clients\//)
        return inc ~ /^(worker\/clients|shm|core|proto)\// || inc == "worker/worker.h"
    if (file ~ /^worker\/request\.[ch]$/)
        return inc ~ /^(shm|core)\// || inc == "worker/request.h" || inc == "worker/worker.h" || inc == "worker/trace.h"
    if (file ~ /^worker\//)
        return inc ~ /^(worker|shm|core|proto)\//
    return 1
}
function rule(file) {
    if (file ~ /^core\//) return "core: core/ includes only core/"
    if (file ~ /^shm\//) return "shm: shm/ includes only shm/ and core/"
    if (file ~ /^master\//) return "master: master/ includes only master/, shm/, core/"
    if (file ~ /^worker\/transcode\//) return "transcode: worker/transcode/ includes only worker/transcode/ and core/"
    if (file ~ /^worker\/clients\//) return "clients: worker/clients/ includes only worker/clients/, worker/worker.h, shm/, core/, proto/ (never the pipeline or a stage)"
    if (file ~ /^worker\/request\.[ch]$/) return "request: worker/request.[ch] sit beneath the stages: only worker/request.h, worker/worker.h, worker/trace.h, shm/, core/"
    return "worker: worker/ includes only worker/, shm/, core/, proto/ (never master/)"
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0
    sub(/^[^"]*"/, "", inc)
    sub(/".*$/, "", inc)
    if (inc !~ /\//)
        next  # same-directory or generated (*.pb-c.h) headers
    if (!allowed(FILENAME, inc)) {
        printf "%s:%d: %s; includes \"%s\"\n", FILENAME, FNR, rule(FILENAME), inc
        bad++
    }
    if (inc == "worker/pipeline.h" && FILENAME !~ /^worker\/(pipeline\.c|worker\.c|errfilter\.c)$/) {
        printf "%s:%d: driver: only the h2o entry points (worker/pipeline.c, worker/worker.c, worker/errfilter.c) include worker/pipeline.h, never a stage\n", FILENAME, FNR
        bad++
    }
}
END {
    if (bad) {
        printf "check-layers: %d wrong-way include(s); see docs/ARCHITECTURE.md, Layers\n", bad
        exit 1
    }
    printf "check-layers: %d files, includes go one way\n", nfiles
}
FNR == 1 { nfiles++ }'
