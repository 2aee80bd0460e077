#!/usr/bin/env bash
# Set up and run the whole system on this machine, and show a VIM being
# monitored:
#
#   tools/run-local.sh
#
# It installs what is missing (Debian packages, .venv with tacker-vimmon,
# .venv-mistral with Mistral 23 and tacker-vimmon), uses the local RabbitMQ
# (a vhost of its own) and PostgreSQL (for Mistral), starts Mistral (api,
# engine, executor), a conductor and the API server (SQLite for
# tacker-vimmon's own database, noauth), registers a VIM on loopback and
# waits until it is REACHABLE. Ctrl-C stops everything. Each run starts
# from empty databases; configuration and logs are in .local/
# (TVM_LOCAL_STATE).
#
#   TVM_LOCAL_ONESHOT=1 tools/run-local.sh   # stop once the VIM is REACHABLE
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
STATE=${TVM_LOCAL_STATE:-$TOP/.local}
API_PORT=${TVM_API_PORT:-9890}
MISTRAL_PORT=${TVM_MISTRAL_PORT:-8989}
# The demo VIM's "Keystone": a stand-in that answers its version document,
# so that the monitor's API check has something to check.
VIM_API_PORT=${TVM_VIM_API_PORT:-5000}
VHOST=${TVM_LOCAL_VHOST:-tacker-vimmon-local}
MISTRAL_DB=${TVM_LOCAL_MISTRAL_DB:-tacker_vimmon_local_mistral}
PG_URL=postgresql+psycopg2://postgres@127.0.0.1:5432
REACHABLE_TIMEOUT=${TVM_LOCAL_TIMEOUT:-120}
VIM_NAME=loopback

say() { printf '\n== %s\n' "$*"; }

tools/install-deps.sh
tools/make-venv.sh
tools/mistral/setup-mistral-venv.sh
VENV=$TOP/.venv
MVENV=$TOP/.venv-mistral
mkdir -p "$STATE/logs" "$STATE/vim-keys"
chmod 700 "$STATE/vim-keys"

say "RabbitMQ vhost $VHOST"
rabbitmqctl -q add_vhost "$VHOST" 2>/dev/null || true
rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*'
TRANSPORT="rabbit://guest:guest@127.0.0.1:5672/$VHOST"

CONF=$STATE/tacker-vimmon.conf
cat > "$CONF" <<CONF_EOF
[DEFAULT]
transport_url = $TRANSPORT
auth_strategy = noauth
state_path = $STATE
log_file = $STATE/logs/tacker-vimmon.log

[database]
connection = sqlite:///$STATE/tacker_vimmon.sqlite

[api]
bind_host = 127.0.0.1
bind_port = $API_PORT

[mistral]
endpoint_override = http://127.0.0.1:$MISTRAL_PORT/v2

[vim]
# No Keystone runs here; the loopback VIM's credentials are not checked.
validate_credentials = False

[vim_keys]
key_repository = $STATE/vim-keys

[vim_monitor]
check_interval = 30

[credential_check]
# No Keystone runs here to prove the demo VIM's credentials.
interval = 0
CONF_EOF

# The monitor action's own file, read inside Mistral's executor: the broker
# of the conductors and nothing secret of the services'.
MONCONF=$STATE/tacker-vimmon-monitor.conf
cat > "$MONCONF" <<CONF_EOF
[DEFAULT]
transport_url = $TRANSPORT
CONF_EOF

MCONF=$STATE/mistral.conf
cat > "$MCONF" <<CONF_EOF
[DEFAULT]
transport_url = $TRANSPORT
log_file = $STATE/logs/mistral.log
# Every monitored VIM holds one executor thread.
executor_thread_pool_size = 512

[api]
host = 127.0.0.1
port = $MISTRAL_PORT

[pecan]
auth_enable = False

[database]
connection = $PG_URL/$MISTRAL_DB

[cron_trigger]
enabled = False

[oslo_policy]
enforce_new_defaults = False
enforce_scope = False
CONF_EOF

say "databases (new, empty)"
rm -f "$STATE/tacker_vimmon.sqlite"
"$VENV/bin/tacker-vimmon-db-manage" --config-file "$CONF" upgrade head \
    >"$STATE/logs/db-manage.log" 2>&1
"$VENV/bin/tacker-vimmon-manage-keys" --config-file "$CONF" setup
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $MISTRAL_DB"
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $MISTRAL_DB"
"$MVENV/bin/mistral-db-manage" --config-file "$MCONF" upgrade head \
    >"$STATE/logs/mistral-db-manage.log" 2>&1
"$MVENV/bin/mistral-db-manage" --config-file "$MCONF" populate \
    >>"$STATE/logs/mistral-db-manage.log" 2>&1

PIDS=()
stop_all() {
    trap - INT TERM EXIT
    say "stopping"
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        # Mistral's master needs a few seconds; do not wait for ever.
        timeout 30 tail --pid="$pid" -f /dev/null 2>/dev/null ||
            kill -KILL "$pid" 2>/dev/null || true
    done
    echo "stopped; logs in $STATE/logs"
}
trap stop_all INT TERM EXIT

start() {
    local name=$1; shift
    "$@" >"$STATE/logs/$name.out" 2>&1 &
    PIDS+=($!)
    echo "started $name (pid $!, log $STATE/logs/$name.out)"
}

wait_http() {
    local url=$1 name=$2 deadline=$((SECONDS + 90))
    until curl -fs -o /dev/null "$url"; do
        if [ $SECONDS -ge $deadline ]; then
            echo "ERROR: $name did not answer at $url; see $STATE/logs" >&2
            exit 1
        fi
        sleep 0.5
    done
}

say "starting Mistral, a conductor and the API server"
start mistral env TACKER_VIMMON_MONITOR_CONFIG_FILE="$MONCONF" \
    "$MVENV/bin/mistral-server" --server api,engine,executor \
    --config-file "$MCONF" \
    --config-file "$TOP/etc/mistral/tacker-vimmon-mistral.conf"
# A second engine: each Mistral process runs one database transaction at a
# time, and monitors are (re-)created through the engines.
start mistral-engine-2 "$MVENV/bin/mistral-server" --server engine \
    --config-file "$MCONF" \
    --config-file "$TOP/etc/mistral/tacker-vimmon-mistral.conf"
start vim-api "$VENV/bin/python" -c '
import http.server, sys
class VersionDocument(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"{\"version\": {\"id\": \"v3.14\", \"status\": \"stable\"}}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                VersionDocument).serve_forever()
' "$VIM_API_PORT"
start conductor "$VENV/bin/tacker-vimmon-conductor" --config-file "$CONF"
start api "$VENV/bin/tacker-vimmon-server" --config-file "$CONF"
wait_http "http://127.0.0.1:$MISTRAL_PORT/v2" Mistral
wait_http "http://127.0.0.1:$API_PORT/healthcheck" "the API server"

OS=("$VENV/bin/openstack" --os-auth-type none
    --os-endpoint "http://127.0.0.1:$API_PORT")
say "registering VIM '$VIM_NAME' (auth_url http://127.0.0.1:$VIM_API_PORT/v3)"
cat > "$STATE/vim-loopback.yaml" <<VIM_EOF
auth_url: http://127.0.0.1:$VIM_API_PORT/v3
username: nfv_user
password: not-a-real-password
project_name: nfv
project_domain_name: Default
user_domain_name: Default
cert_verify: 'False'
VIM_EOF
"${OS[@]}" vim register --config-file "$STATE/vim-loopback.yaml" \
    --description "this machine, over loopback" "$VIM_NAME" \
    -c id -c name -c status

say "waiting for VIM '$VIM_NAME' to be REACHABLE"
deadline=$((SECONDS + REACHABLE_TIMEOUT))
started=$SECONDS
until [ "$("${OS[@]}" vim show "$VIM_NAME" -f value -c status)" = REACHABLE ]; do
    if [ $SECONDS -ge $deadline ]; then
        echo "ERROR: VIM '$VIM_NAME' not REACHABLE after ${REACHABLE_TIMEOUT}s" >&2
        "${OS[@]}" vim show "$VIM_NAME" >&2 || true
        exit 1
    fi
    sleep 1
done
"${OS[@]}" vim list
echo "REACHABLE after $((SECONDS - started)) s"

cat <<USAGE

tacker-vimmon is running (noauth; project from the X-Project-Id header or
[api] noauth_project_id).

  API:      http://127.0.0.1:$API_PORT/v1.0/vims
  CLI:      $VENV/bin/openstack --os-auth-type none \\
                --os-endpoint http://127.0.0.1:$API_PORT vim list
            (also: vim register --config-file F NAME, vim show, vim set,
             vim delete)
  events:   curl http://127.0.0.1:$API_PORT/v1.0/events
  Mistral:  http://127.0.0.1:$MISTRAL_PORT/v2 (no auth)
  logs:     $STATE/logs
USAGE

if [ -n "${TVM_LOCAL_ONESHOT:-}" ]; then
    exit 0
fi
echo "Press Ctrl-C to stop everything."
wait -n "${PIDS[@]}"
echo "a service exited; see $STATE/logs" >&2
exit 1
