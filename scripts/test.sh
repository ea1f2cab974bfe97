#!/usr/bin/env bash
# The test command. Prepares this checkout, then runs the whole suite twice:
# on the compiled keyspace core and on the pure-Python twin (MINIKV_PURE=1).
#
#   bash scripts/test.sh                    # both backends, the regular suite
#   bash scripts/test.sh --slow             # the slow soaks (-m slow), Hypothesis "nightly"
#   bash scripts/test.sh tests/test_keys.py -x   # anything else goes to pytest
#
# Preparation, idempotent and quiet:
#   - redis-server (the referee of the differential tests) from Debian's
#     packages if it is missing and we are root; otherwise a warning, and those
#     tests skip (or fail, under MINIKV_REQUIRE_REDIS=1 as CI sets it);
#   - a virtualenv in .venv (override with MINIKV_VENV) holding
#     `pip install -e '.[test]'`, redone every time so that the compiled
#     core is rebuilt from the current minikv/_core.pyx.
#
# When minikv/_core.pyx exists the first run demands the compiled backend
# (MINIKV_EXPECT_BACKEND=compiled): a core that fails to build fails the run.
# Exit status is non-zero if any run fails, including pytest's exit 5
# ("no tests collected") and a run stopped by its time bound
# (MINIKV_RUN_TIMEOUT seconds, 1800 by default, none for --slow).
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${MINIKV_VENV:-.venv}
MARK_ARGS=()
PROFILE=${HYPOTHESIS_PROFILE:-dev}
# A bound on each pytest run, in seconds (0: none): a run normally takes a
# few minutes; this turns a hang nothing else caught into a failure.
RUN_LIMIT=${MINIKV_RUN_TIMEOUT:-1800}
if [[ ${1:-} == --slow || ${1:-} == nightly ]]; then
    shift
    MARK_ARGS=(-m slow)
    PROFILE=nightly
    RUN_LIMIT=${MINIKV_RUN_TIMEOUT:-0}
fi

say() { printf '\n== %s\n' "$*"; }

ensure_redis_server() {
    command -v redis-server >/dev/null && return 0
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        say "installing redis-server (Debian package)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null &&
            apt-get install -y -qq --no-install-recommends redis-server >/dev/null </dev/null ||
            { echo "apt-get could not install redis-server" >&2; return 1; }
    else
        echo "warning: redis-server is not on PATH; the differential tests will be skipped" \
             "(install Debian's redis-server)" >&2
    fi
}

install_package() {
    if [[ ! -x $VENV/bin/python ]]; then
        say "creating the virtualenv $VENV"
        "$PYTHON" -m venv "$VENV" || { echo "could not create $VENV with $PYTHON" >&2; return 1; }
    fi
    say "pip install -e '.[test]' into $VENV"
    local log=$VENV/install.log
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -v \
            -e '.[test]' >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "pip install failed (full log: $log)" >&2
        return 1
    fi
    if grep -q "minikv: compiled core not built" "$log"; then
        grep -h "minikv: compiled core not built" "$log" | sort -u >&2
        echo "  (why: see $log)" >&2
    fi
}

run_suite() {  # run_suite LABEL [VAR=value ...]
    local label=$1
    shift
    say "pytest, $label backend"
    timeout --foreground --kill-after=30 "$RUN_LIMIT" \
        env "$@" HYPOTHESIS_PROFILE="$PROFILE" "$VENV/bin/python" -m pytest "${MARK_ARGS[@]}" "${PYTEST_ARGS[@]}"
    local status=$?
    if [[ $status == 5 ]]; then
        echo "pytest collected no tests on the $label backend: that is a failure" >&2
    elif [[ $status == 124 || $status == 137 ]]; then
        echo "pytest on the $label backend was stopped after ${RUN_LIMIT}s" >&2
    fi
    if [[ $status != 0 ]]; then
        FAILED+=("$label (pytest exit $status)")
    fi
}

ensure_redis_server || exit 1
install_package || exit 1

PYTEST_ARGS=("$@")
FAILED=()
if [[ -f minikv/_core.pyx ]]; then
    run_suite compiled MINIKV_EXPECT_BACKEND=compiled
else
    say "no minikv/_core.pyx in this checkout: only the pure-Python backend exists"
fi
run_suite pure MINIKV_PURE=1 MINIKV_EXPECT_BACKEND=pure

if (( ${#FAILED[@]} )); then
    say "FAILED: ${FAILED[*]}"
    exit 1
fi
