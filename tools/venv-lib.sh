# shellcheck shell=bash
# Sourced by the scripts that build the project's virtualenvs
# (tools/make-venv.sh, tools/mistral/setup-mistral-venv.sh).
#
# The interpreter they are built with is the one a deployment runs: the
# distribution's python3 (what devstack, Debian's uWSGI and the systemd
# units use) when it is 3.11 or newer, so that the tests and benchmarks
# measure what operators get. Distributions build it with profile-guided
# optimisation and link its core into the binary; one built with
# --enable-shared and without --enable-optimizations (as the pyenv one on
# the project's CI machines is) costs the monitors about 1.4x the CPU
# (tools/bench/bench_interpreters.py, doc/source/admin/sizing.rst).
# $PYTHON, when set, wins.

DISTRO_PYTHON=/usr/bin/python3

# Print the interpreter to build virtualenvs with.
pick_python() {
    if [ -n "${PYTHON:-}" ]; then
        echo "$PYTHON"
    elif "$DISTRO_PYTHON" -c 'import sys, ensurepip, venv
sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "$DISTRO_PYTHON"
    else
        echo python3
    fi
}

# The real path and version of the interpreter python runs on (a venv's
# python answers for the one it was made from).
base_interpreter() {
    "$1" -c 'import os, sys
print(os.path.realpath(sys._base_executable), sys.version.split()[0])'
}

# Make VENV with PYTHON, or make it again if it was made with another
# interpreter (a venv cannot change its own).
ensure_venv() {
    local venv=$1 python=$2
    if [ -x "$venv/bin/python" ] &&
        [ "$(base_interpreter "$venv/bin/python")" != "$(base_interpreter "$python")" ]; then
        echo "venv: $venv was made with another interpreter; making it again with $python"
        rm -rf "$venv"
    fi
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
}
