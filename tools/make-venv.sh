#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv with tacker-vimmon installed
# in development mode and everything its tests and docs need.
#   tools/make-venv.sh [VENV]        (default: .venv)
#   tools/make-venv.sh --deploy      (.venv-deploy: Debian's python3, the
#                                     runtime and client requirements only)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/venv-lib.sh
. tools/venv-lib.sh
REQS=(requirements.txt test-requirements.txt doc/requirements.txt)
if [ "${1:-}" = --deploy ]; then
    # What the deployment tests run (devstack's plugin, the systemd units):
    # the interpreter Debian's uWSGI embeds, outside any user's home.
    VENV=.venv-deploy
    PYTHON=$DISTRO_PYTHON
    REQS=(requirements.txt tools/deploy-requirements.txt)
else
    VENV=${1:-.venv}
    PYTHON=$(pick_python)
fi

"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit('tacker-vimmon needs Python 3.11 or newer, found %s'
             % sys.version.split()[0])
PY

stamp="$VENV/.tacker-vimmon-reqs"
wanted=$( (base_interpreter "$PYTHON"; cat "${REQS[@]}" pyproject.toml) |
    sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
echo "make-venv: installing tacker-vimmon and its requirements into $VENV"
ensure_venv "$VENV" "$PYTHON"
"$VENV/bin/pip" install -q --upgrade pip
args=()
for req in "${REQS[@]}"; do args+=(-r "$req"); done
"$VENV/bin/pip" install -q "${args[@]}" -e .
echo "$wanted" > "$stamp"
