#!/usr/bin/env bash
# Build (or refresh) .venv-mistral: OpenStack Mistral 23 with tacker-vimmon
# installed into it in development mode, so that Mistral's executor finds
# the tacker_vimmon.vim_monitor action (entry point group mistral.actions).
# The functional tests start their Mistral from here.
#
#   tools/mistral/setup-mistral-venv.sh [VENV]     (default: .venv-mistral)
#
# Idempotent: a stamp of the Mistral version and of this project's
# requirements skips the work when nothing changed. Quiet unless it builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/venv-lib.sh
. tools/venv-lib.sh
VENV=${1:-.venv-mistral}
PYTHON=$(pick_python)
MISTRAL_VERSION=${MISTRAL_VERSION:-23.0.0}

stamp="$VENV/.tacker-vimmon-mistral"
wanted=$( (echo "mistral==$MISTRAL_VERSION"; base_interpreter "$PYTHON"
           cat requirements.txt pyproject.toml) |
    sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/mistral-server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
# pip's notes about missing local indexes are noise here.
exec 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "setup-mistral-venv: installing mistral $MISTRAL_VERSION and tacker-vimmon into $VENV"
ensure_venv "$VENV" "$PYTHON"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "mistral==$MISTRAL_VERSION" python-mistralclient \
    mistral-lib psycopg2-binary -r requirements.txt
# --no-deps: the requirements are in already; this only links the source.
"$VENV/bin/pip" install -q --no-deps -e .
echo "$wanted" > "$stamp"
