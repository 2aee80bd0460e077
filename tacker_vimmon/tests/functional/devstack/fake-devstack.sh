# shellcheck shell=bash
# shellcheck disable=SC2034  # devstack's globals, read by the plugins
# The devstack helpers that tacker-vimmon's plugin (and the stand-in Mistral
# plugin beside this file) call, doing their documented work for real on
# this machine, inside one directory ($FAKE_DEVSTACK_ROOT) and without
# systemd:
#
# - iniset/iniget/iniget_sections edit and read real ini files;
# - run_process writes a unit file (ExecStart, Environment, as devstack's
#   write_user_unit_file does) and starts its command as a plain background
#   process in a session of its own, with a pid file; stop_process stops it
#   (SIGTERM to its process group, then SIGKILL) and disables the unit;
# - recreate_database and database_connection_url use the machine's real
#   MariaDB or PostgreSQL;
# - write_uwsgi_config writes a real uWSGI ini and an Apache site with its
#   ProxyPass, enabled in a private Apache (apache2 -f, its own config,
#   listening on $SERVICE_HOST:80) that restart_apache_server restarts;
# - setup_develop and pip_install install into $DEVSTACK_VENV with pip;
# - wait_for_service polls with curl like devstack's.
#
# Written for these tests from devstack's documentation of each helper; the
# machine-specific values come from the environment the test sets (FAKE_*).

FAKE_DEVSTACK_ROOT=${FAKE_DEVSTACK_ROOT:?the test sets FAKE_DEVSTACK_ROOT}
FAKE_UNITS=$FAKE_DEVSTACK_ROOT/systemd
FAKE_RUN=$FAKE_DEVSTACK_ROOT/run
FAKE_LOGS=$FAKE_DEVSTACK_ROOT/logs
FAKE_APACHE=$FAKE_DEVSTACK_ROOT/apache2
mkdir -p "$FAKE_UNITS" "$FAKE_RUN" "$FAKE_LOGS" "$FAKE_APACHE/sites-available" \
    "$FAKE_APACHE/sites-enabled"

# stackrc's globals, as a single-node devstack on Debian has them.
DEST=$FAKE_DEVSTACK_ROOT/opt/stack
DATA_DIR=$DEST/data
STACK_USER=${STACK_USER:-$(id -un)}
SERVICE_HOST=${FAKE_SERVICE_HOST:?the test sets FAKE_SERVICE_HOST}
SERVICE_PROTOCOL=http
SERVICE_TIMEOUT=${SERVICE_TIMEOUT:-60}
API_WORKERS=2
WORKER_TIMEOUT=80
ENABLE_DEBUG_LOG_LEVEL=True
GLOBAL_VENV=True
DEVSTACK_VENV=${FAKE_DEVSTACK_VENV:?the test sets FAKE_DEVSTACK_VENV}
APACHE_NAME=apache2
APACHE_CONF_DIR=$FAKE_APACHE/sites-available
RABBIT_USERID=${FAKE_RABBIT_USERID:-guest}
RABBIT_PASSWORD=${FAKE_RABBIT_PASSWORD:-guest}
RABBIT_HOST=${FAKE_RABBIT_HOST:-127.0.0.1}
DATABASE_TYPE=${FAKE_DATABASE_TYPE:-mysql}
DATABASE_HOST=127.0.0.1
MYSQL_HOST=$DATABASE_HOST
case $DATABASE_TYPE in
    mysql) DATABASE_USER=root ;;
    postgresql) DATABASE_USER=postgres ;;
esac
DATABASE_PASSWORD=${FAKE_DATABASE_PASSWORD:-}
ENABLED_SERVICES=""
DISABLED_SERVICES=""
DEVSTACK_PLUGINS=""
declare -A -g GITDIR SYSTEMD_ENV_VARS
mkdir -p "$DATA_DIR"

# Output
# ------

function echo_summary {
    echo "devstack: $*"
}

function warn {
    echo "[WARNING] ${BASH_SOURCE[1]}:$1 $2"
}

function die {
    local line=$1
    shift
    echo "[ERROR] ${BASH_SOURCE[1]}:$line $*" >&2
    exit 1
}

# This test runs as root: sudo is the command itself.
function sudo {
    "$@"
}

# Plugins and services
# --------------------

function define_plugin {
    :
}

function plugin_requires {
    :
}

# enable_plugin name path: a checkout on this machine instead of a git URL,
# at $DEST/name as devstack clones it.
function enable_plugin {
    DEVSTACK_PLUGINS+=",$1"
    GITDIR[$1]=$DEST/$1
    mkdir -p "$DEST"
    ln -sfn "$2" "$DEST/$1"
}

function _fake_has {
    [[ ",$1," == *",$2,"* ]]
}

function enable_service {
    local service
    for service in "$@"; do
        if _fake_has "$DISABLED_SERVICES" "$service"; then
            warn $LINENO "Attempt to enable_service $service when it has been disabled"
        elif ! _fake_has "$ENABLED_SERVICES" "$service"; then
            ENABLED_SERVICES+=",$service"
        fi
    done
}

function disable_service {
    local service
    for service in "$@"; do
        DISABLED_SERVICES+=",$service"
        ENABLED_SERVICES=$(echo ",$ENABLED_SERVICES," |
            sed -e "s/,$service,/,/g" -e 's/^,*//' -e 's/,*$//')
    done
}

function is_service_enabled {
    local service
    for service in "$@"; do
        _fake_has "$ENABLED_SERVICES" "$service" && return 0
    done
    return 1
}

function use_library_from_git {
    _fake_has "${LIBS_FROM_GIT:-}" "$1"
}

# Ini files
# ---------

function iniget {
    local file=$1 section=$2 option=$3
    [[ -f "$file" ]] || return 0
    awk -v section="$section" -v option="$option" '
        /^\[.*\]/ { inside = ($0 == "[" section "]"); next }
        inside {
            line = $0
            if (match(line, "^" option "[ \t]*=")) {
                value = substr(line, RLENGTH + 1)
                sub(/^[ \t]+/, "", value)
                print value
                exit
            }
        }' "$file"
}

function iniget_sections {
    [[ -f "$1" ]] || return 0
    sed -ne 's/^\[\([^]]*\)\].*/\1/p' "$1"
}

# iniset [-sudo] file section option value: replace the option's value in
# its section, or add it at the section's top, or add the section at the end.
function iniset {
    [[ "$1" == "-sudo" ]] && shift
    local file=$1 section=$2 option=$3 value=$4
    [[ -n "$section" && -n "$option" ]] || return 0
    mkdir -p "$(dirname "$file")"
    touch "$file"
    local updated
    # Through the environment: awk -v would interpret backslashes.
    updated=$(SECTION=$section OPTION=$option VALUE=$value awk '
        BEGIN { section = ENVIRON["SECTION"]; option = ENVIRON["OPTION"]
                value = ENVIRON["VALUE"]; done = 0 }
        /^\[.*\]/ {
            if (inside && !done) { print option " = " value; done = 1 }
            inside = ($0 == "[" section "]")
            print
            next
        }
        inside && !done && index($0, option) == 1 &&
                substr($0, length(option) + 1) ~ /^[ \t]*=/ {
            print option " = " value; done = 1; next
        }
        { print }
        END {
            if (!done && inside) { print option " = " value }
            else if (!done) { print ""; print "[" section "]"; print option " = " value }
        }' "$file")
    printf '%s\n' "$updated" > "$file"
}

# Python
# ------

function get_python_exec_prefix {
    echo "$DEVSTACK_VENV/bin"
}

function _fake_pip {
    # Two tests may install into the same virtualenv at once.
    flock "$DEVSTACK_VENV/.fake-devstack-pip.lock" \
        "$DEVSTACK_VENV/bin/pip" install -q --disable-pip-version-check "$@"
}

function pip_install {
    _fake_pip "$@"
}

function pip_install_gr {
    _fake_pip "$1"
}

# setup_develop dir: install the project in development mode. Done already
# when the virtualenv has this very checkout installed so (tools/make-venv.sh
# builds it that way), which leaves it untouched for the tests running
# beside this one.
function setup_develop {
    local dir
    dir=$(cd "$1" && pwd -P)
    local name
    name=$(awk '/^name[ \t]*=/ { print $3; exit }' "$dir/setup.cfg")
    if "$DEVSTACK_VENV/bin/python" - "$name" "$dir" <<'PY'
import json, sys
from importlib import metadata
try:
    url = json.loads(metadata.distribution(sys.argv[1]).read_text(
        'direct_url.json') or '{}')
except metadata.PackageNotFoundError:
    sys.exit(1)
editable = url.get('dir_info', {}).get('editable')
sys.exit(0 if editable and url.get('url') == 'file://' + sys.argv[2] else 1)
PY
    then
        echo "setup_develop: $name is installed from $dir in development mode"
        return 0
    fi
    _fake_pip --no-deps -e "$dir"
}

# Messaging and databases
# -----------------------

# The test gives every run a vhost of its own ($FAKE_RABBIT_VHOST), where
# devstack has the broker's default one.
function get_transport_url {
    local vhost=${1:-$FAKE_RABBIT_VHOST}
    echo "rabbit://$RABBIT_USERID:$RABBIT_PASSWORD@$RABBIT_HOST:5672/$vhost"
}

function iniset_rpc_backend {
    local file=$2 section=${3:-DEFAULT}
    iniset "$file" "$section" transport_url "$(get_transport_url "${4:-}")"
}

function database_connection_url {
    case $DATABASE_TYPE in
        mysql)
            echo "mysql+pymysql://$DATABASE_USER:$DATABASE_PASSWORD@$DATABASE_HOST/$1?charset=utf8"
            ;;
        postgresql)
            echo "postgresql+psycopg2://$DATABASE_USER:$DATABASE_PASSWORD@$DATABASE_HOST/$1?client_encoding=utf8"
            ;;
    esac
}

function recreate_database {
    local db=$1
    case $DATABASE_TYPE in
        mysql)
            MYSQL_PWD=$DATABASE_PASSWORD mysql -u"$DATABASE_USER" \
                -h"$MYSQL_HOST" -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8;"
            ;;
        postgresql)
            PGPASSWORD=$DATABASE_PASSWORD psql -q -h"$DATABASE_HOST" \
                -U"$DATABASE_USER" -dtemplate1 -c "DROP DATABASE IF EXISTS $db"
            PGPASSWORD=$DATABASE_PASSWORD createdb -h "$DATABASE_HOST" \
                -U"$DATABASE_USER" -l C -T template0 -E utf8 "$db"
            ;;
    esac
}

# Processes
# ---------

# A unit's file, written as devstack's write_user_unit_file does.
function _fake_unit {
    echo "$FAKE_UNITS/$1.service"
}

# run_process service command [group] [user] [env_vars]
function run_process {
    local service=$1 command=$2 env_vars=${5:-}
    is_service_enabled "$service" || return 0
    [[ "$command" == /* ]] || die $LINENO "run_process $service: not an absolute path: $command"
    if [[ -v SYSTEMD_ENV_VARS[$service] ]]; then
        env_vars="${SYSTEMD_ENV_VARS[$service]} $env_vars"
    fi
    if [[ "$command" =~ uwsgi && "$GLOBAL_VENV" == "True" ]]; then
        command="$command --venv $DEVSTACK_VENV"
    fi
    local unit=devstack@$service
    rm -f "$(_fake_unit "$unit")"
    iniset "$(_fake_unit "$unit")" Unit Description "Devstack $unit.service"
    iniset "$(_fake_unit "$unit")" Service ExecStart "$command"
    iniset "$(_fake_unit "$unit")" Service Environment "$env_vars"
    touch "$(_fake_unit "$unit").enabled"
    _fake_start "$unit"
}

# Start a unit's ExecStart with its Environment and nothing of this shell's
# (but PYTHONPATH, so that a test of a work tree runs its code), in a
# session of its own, as systemd would.
function _fake_start {
    local unit=$1 command env_vars
    command=$(iniget "$(_fake_unit "$unit")" Service ExecStart)
    env_vars=$(iniget "$(_fake_unit "$unit")" Service Environment)
    # shellcheck disable=SC2086  # words, as systemd splits them
    setsid env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 \
        ${PYTHONPATH:+PYTHONPATH=$PYTHONPATH} $env_vars $command \
        >> "$FAKE_LOGS/$unit.log" 2>&1 < /dev/null &
    echo $! > "$FAKE_RUN/$unit.pid"
}

# Stop a unit: SIGTERM to its process group, SIGKILL after 30 s.
function _fake_stop {
    local pidfile=$FAKE_RUN/$1.pid pid waited=0
    [[ -f "$pidfile" ]] || return 0
    pid=$(cat "$pidfile")
    if kill -TERM -- "-$pid" 2>/dev/null; then
        while kill -0 -- "-$pid" 2>/dev/null && (( waited < 300 )); do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

function stop_process {
    local unit=devstack@$1
    is_service_enabled "$1" || return 0
    if [[ -f "$(_fake_unit "$unit").enabled" ]]; then
        _fake_stop "$unit"
        rm -f "$(_fake_unit "$unit").enabled"
    fi
}

# restart_service devstack@name.service or apache2
function restart_service {
    local unit=${1%.service}
    if [[ "$unit" == "$APACHE_NAME" ]]; then
        restart_apache_server
        return
    fi
    _fake_stop "$unit"
    _fake_start "$unit"
}

# wait_for_service timeout url: until the URL answers with anything but 503.
function wait_for_service {
    local timeout=$1 url=$2
    timeout "$timeout" bash -c "
        while [[ \$(curl -g -k --noproxy '*' -s -o /dev/null -w '%{http_code}' '$url') == 503 || \$? -eq 7 ]]; do
            sleep 0.2
        done"
}

# Apache
# ------

function apache_site_config_for {
    echo "$APACHE_CONF_DIR/$1.conf"
}

function enable_apache_site {
    ln -sf "../sites-available/$1.conf" "$FAKE_APACHE/sites-enabled/$1.conf"
}

function disable_apache_site {
    rm -f "$FAKE_APACHE/sites-enabled/$1.conf"
}

function enable_apache_mod {
    :
}

function restart_apache_server {
    cat > "$FAKE_APACHE/apache2.conf" <<EOF
ServerRoot $FAKE_APACHE
ServerName $SERVICE_HOST
PidFile $FAKE_APACHE/apache2.pid
Mutex file:$FAKE_APACHE
Listen $SERVICE_HOST:80
User nobody
Group nogroup
ErrorLog $FAKE_LOGS/apache-error.log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_http_module /usr/lib/apache2/modules/mod_proxy_http.so
LoadModule proxy_uwsgi_module /usr/lib/apache2/modules/mod_proxy_uwsgi.so
IncludeOptional $FAKE_APACHE/sites-enabled/*.conf
EOF
    iniset "$(_fake_unit apache2)" Service ExecStart \
        "/usr/sbin/apache2 -f $FAKE_APACHE/apache2.conf -DFOREGROUND"
    _fake_stop apache2
    _fake_start apache2
    wait_for_service 10 "http://$SERVICE_HOST/"
}

function stop_apache_server {
    _fake_stop apache2
}

# write_uwsgi_config conf wsgi url http name: the uWSGI ini of an API, and
# (with no http) the Apache site that proxies url to its unix socket.
function write_uwsgi_config {
    local conf=$1 wsgi=$2 url=$3 http=$4 name=${5:-$(basename "$2")}
    # devstack's /var/run/uwsgi, here; Apache's user reaches the socket.
    local socket_dir=$FAKE_RUN/uwsgi
    mkdir -p "$socket_dir"
    chmod 755 "$FAKE_DEVSTACK_ROOT" "$FAKE_RUN" "$socket_dir"
    local socket=$socket_dir/$name.socket
    rm -rf "$conf"
    iniset "$conf" uwsgi module "$wsgi"
    iniset "$conf" uwsgi processes "$API_WORKERS"
    iniset "$conf" uwsgi master true
    iniset "$conf" uwsgi die-on-term true
    iniset "$conf" uwsgi exit-on-reload false
    iniset "$conf" uwsgi worker-reload-mercy "$WORKER_TIMEOUT"
    iniset "$conf" uwsgi enable-threads true
    iniset "$conf" uwsgi plugins http,python3
    iniset "$conf" uwsgi thunder-lock true
    iniset "$conf" uwsgi hook-master-start "unix_signal:15 gracefully_kill_them_all"
    iniset "$conf" uwsgi buffer-size 65535
    iniset "$conf" uwsgi add-header "Connection: close"
    iniset "$conf" uwsgi lazy-apps true
    iniset "$conf" uwsgi start-time %t
    if [[ -n "$http" ]]; then
        iniset "$conf" uwsgi http "$http"
        return
    fi
    iniset "$conf" uwsgi socket "$socket"
    iniset "$conf" uwsgi chmod-socket 666
    echo "ProxyPass \"$url\" \"unix:$socket|uwsgi://uwsgi-uds-$name\" retry=0 acquire=1 " \
        >> "$(apache_site_config_for "$name")"
    enable_apache_site "$name"
    restart_apache_server
}

# write_local_proxy_http_config name url location: proxy location to url.
function write_local_proxy_http_config {
    local name=$1 url=$2 location=$3 site
    site=$(apache_site_config_for "$name")
    echo "KeepAlive Off" > "$site"
    echo "ProxyPass \"$location\" \"$url\" retry=0 acquire=1 " >> "$site"
    enable_apache_site "$name"
    restart_apache_server
}

function remove_uwsgi_config {
    local conf=$1 wsgi=$2
    rm -rf "$conf"
    disable_apache_site "$(basename "$wsgi")"
}

# Phases
# ------

# local.conf's meta-sections [[phase|file]] of one phase, merged into their
# files with iniset (file names may use the plugins' variables).
function merge_config_group {
    local localconf=$1 phase=$2 file="" section="" line option value
    while IFS= read -r line; do
        if [[ "$line" =~ ^\[\[([^|]+)\|(.+)\]\]$ ]]; then
            file=""
            if [[ "${BASH_REMATCH[1]}" == "$phase" ]]; then
                file=$(eval echo "${BASH_REMATCH[2]}")
            fi
        elif [[ -n "$file" && "$line" =~ ^\[(.+)\]$ ]]; then
            section=${BASH_REMATCH[1]}
        elif [[ -n "$file" && "$line" =~ ^([^#=[:space:]]+)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
            option=${BASH_REMATCH[1]}
            value=${BASH_REMATCH[2]}
            iniset "$file" "$section" "$option" "$value"
        fi
    done < "$localconf"
}

# The [[local|localrc]] part of local.conf, as shell.
function source_localrc {
    local localrc=$FAKE_DEVSTACK_ROOT/localrc
    awk '/^\[\[/ { inside = ($0 == "[[local|localrc]]"); next }
         inside { print }' "$1" > "$localrc"
    # shellcheck disable=SC1090
    source "$localrc"
}

function load_plugin_settings {
    local plugin
    for plugin in ${DEVSTACK_PLUGINS//,/ }; do
        if [[ -f "${GITDIR[$plugin]}/devstack/settings" ]]; then
            # shellcheck disable=SC1090,SC1091
            source "${GITDIR[$plugin]}/devstack/settings"
        fi
    done
}

function run_phase {
    local plugin
    for plugin in ${DEVSTACK_PLUGINS//,/ }; do
        # shellcheck disable=SC1090,SC1091
        source "${GITDIR[$plugin]}/devstack/plugin.sh" "$@"
    done
}
