#!/usr/bin/env bash
# Create (or refresh) .venv-keystone: a virtualenv of its own holding the
# OpenStack Keystone that the functional tests start on loopback
# (tacker_vimmon/tests/functional/keystone.py). Safe to run again: it does
# nothing while tools/keystone/requirements.txt is unchanged.
#   tools/keystone/setup-keystone-venv.sh [VENV]   (default: .venv-keystone)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-${TVM_KEYSTONE_VENV:-.venv-keystone}}
PYTHON=${PYTHON:-python3}
REQS=tools/keystone/requirements.txt

stamp="$VENV/.tacker-vimmon-keystone-reqs"
wanted=$(sha256sum "$REQS" | cut -d' ' -f1)
if [ -x "$VENV/bin/keystone-manage" ] &&
        [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
echo "setup-keystone-venv: installing Keystone into $VENV"
log=$(mktemp /tmp/tvm-keystone-venv.XXXXXX)
# pip's output is kept out of the test run's, and shown when pip fails.
if ! { [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"; } >"$log" 2>&1 ||
        ! "$VENV/bin/pip" install -q --upgrade pip >>"$log" 2>&1 ||
        ! "$VENV/bin/pip" install -q -r "$REQS" >>"$log" 2>&1; then
    cat "$log"
    echo "setup-keystone-venv: installing Keystone into $VENV failed"
    rm -f "$log"
    exit 1
fi
rm -f "$log"
# A requirements change invalidates the bootstrapped template databases too.
rm -rf "$VENV/tvm-state"
echo "$wanted" > "$stamp"
