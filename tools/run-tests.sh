#!/usr/bin/env bash
# The one command that sets up and runs every test on a fresh machine:
#
#   tools/run-tests.sh            # everything (what CI runs)
#   tools/run-tests.sh unit       # only some suites: unit functional lint docs
#
# It installs the Debian packages and services the tests use (tools/
# install-deps.sh), builds .venv (tools/make-venv.sh), then runs each suite.
# The last line adds up stestr's own totals as "N passed, N failed", so a run
# that executed no test cannot pass unnoticed. Exit status is non-zero if any
# test or check failed or any suite ran no test.
set -uo pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
VENV=${VENV:-$TOP/.venv}
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(lint unit functional docs)

# The functional tests fail, rather than skip, when a service is missing.
export TVM_REQUIRE_SERVICES=1
export PYTHONDONTWRITEBYTECODE=1

tools/install-deps.sh || { echo "run-tests: installing the services failed"; exit 1; }
tools/make-venv.sh "$VENV" || { echo "run-tests: building $VENV failed"; exit 1; }
export PATH="$VENV/bin:$PATH"
# The functional tests' real Keystone lives in a virtualenv of its own
# (tacker_vimmon/tests/functional/keystone.py); a no-op once it is built.
if [[ " ${SUITES[*]} " == *" functional "* ]]; then
    tools/keystone/setup-keystone-venv.sh ||
        { echo "run-tests: building .venv-keystone failed"; exit 1; }
    # The deployment tests' virtualenv (tests/functional/deployment.py).
    deploy_log=$(mktemp /tmp/tvm-make-venv-deploy.XXXXXX)
    tools/make-venv.sh --deploy >"$deploy_log" 2>&1 ||
        { tail -50 "$deploy_log"; echo "run-tests: building .venv-deploy failed"; exit 1; }
fi

passed=0
failed=0
problems=()
LOGDIR=$(mktemp -d /tmp/tvm-run-tests.XXXXXX)

# Run one stestr suite and add its totals to ours. Every test's result is
# listed for the functional suite (which backends, which services), only the
# failures for the others.
run_stestr() {
    local name=$1 path=$2 out="$LOGDIR/$1.log" shown='FAILED|ERROR'
    [ "$name" = functional ] && shown='ok|FAILED|ERROR|SKIPPED|skip'
    echo "=== $name tests ($path)"
    local started=$SECONDS
    stestr --test-path "$path" --top-dir ./ run 2>&1 | tee "$out" |
        grep -E "\.\.\. ($shown)|^ - (Passed|Failed|Skipped)" |
        sed -E 's/^\{[0-9]+\} //'
    local rc=${PIPESTATUS[0]}
    local p f s
    p=$(sed -n 's/^ - Passed: \([0-9]*\)$/\1/p' "$out" | tail -1)
    f=$(sed -n 's/^ - Failed: \([0-9]*\)$/\1/p' "$out" | tail -1)
    s=$(sed -n 's/^ - Skipped: \([0-9]*\)$/\1/p' "$out" | tail -1)
    if [ -z "$p" ] || [ -z "$f" ]; then
        problems+=("$name: stestr printed no totals (see $out)")
        tail -40 "$out"
        return
    fi
    echo "--- $name: $p passed, $f failed, ${s:-0} skipped in $((SECONDS - started)) s"
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$p" -eq 0 ] && problems+=("$name: no test passed")
    if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
        problems+=("$name: stestr exited $rc")
        stestr failing 2>&1 | tail -300
    fi
}

run_check() {
    local name=$1; shift
    echo "=== $name: $*"
    if ! "$@" >"$LOGDIR/$name.log" 2>&1; then
        cat "$LOGDIR/$name.log"
        problems+=("$name failed")
    else
        echo "--- $name: ok"
    fi
}

# Mistral 23 with tacker-vimmon inside, for the functional tests that run
# monitors through a real Mistral (tests/functional/mistral.py).
if [[ " ${SUITES[*]} " == *" functional "* ]]; then
    tools/mistral/setup-mistral-venv.sh ||
        { echo "run-tests: building .venv-mistral failed"; exit 1; }
fi

for suite in "${SUITES[@]}"; do
    case $suite in
        lint) run_check lint ruff check tacker_vimmon tools ;;
        unit) run_stestr unit tacker_vimmon/tests/unit ;;
        functional) run_stestr functional tacker_vimmon/tests/functional ;;
        docs) run_check docs sphinx-build -W --keep-going -q -b html \
                  doc/source "$LOGDIR/doc-html" ;;
        *) echo "run-tests: unknown suite $suite"; exit 2 ;;
    esac
done

for problem in "${problems[@]}"; do echo "PROBLEM: $problem"; done
echo "$passed passed, $failed failed"
[ ${#problems[@]} -eq 0 ]
