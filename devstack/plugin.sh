#!/bin/bash
#
# devstack plugin for tacker-vimmon: the VIM registry (the API server under
# uWSGI, behind Apache) and the conductor that the VIM monitor actions in
# Mistral's executor report to.
#
# devstack sources this file once per phase, with the mode and phase as
# arguments: "stack install", "stack post-config", "stack extra",
# "stack test-config", "unstack" and "clean".

# shellcheck disable=SC2154  # devstack and devstack/settings set the rest

XTRACE=$(set +o | grep xtrace)
set -o xtrace

# Helpers
# -------

# Mistral's plugin runs its services as separate units only when all four
# are enabled, and as one devstack@mistral unit otherwise (for example with
# the event engine disabled, as tacker-vimmon's guides advise).
function _tacker_vimmon_mistral_is_split {
    is_service_enabled mistral-api && is_service_enabled mistral-engine &&
        is_service_enabled mistral-executor &&
        is_service_enabled mistral-event-engine
}

# Where Mistral's v2 API answers: behind Apache at /workflow when it runs
# split (mistral-api under uWSGI), and on mistral-server's own port when it
# runs as one process (the catalog's /workflow has no uWSGI behind it then).
function _tacker_vimmon_mistral_url {
    if _tacker_vimmon_mistral_is_split; then
        echo "$MISTRAL_SERVICE_PROTOCOL://$MISTRAL_SERVICE_HOST/workflow/v2"
        return
    fi
    local port
    port=$(iniget "$MISTRAL_CONF_FILE" api port)
    echo "http://$MISTRAL_SERVICE_HOST:${port:-8989}/v2"
}

# The range of groups allowed to open unprivileged ICMP sockets, widened to
# include the group Mistral's executor runs as (run_process runs it as
# $STACK_USER). The value found is kept, for clean to put back.
function _tacker_vimmon_allow_icmp {
    local gid low high
    gid=$(id -g "$STACK_USER")
    read -r low high < /proc/sys/net/ipv4/ping_group_range
    if (( low <= gid && gid <= high )); then
        return 0
    fi
    if [[ "$TACKER_VIMMON_SET_PING_GROUP_RANGE" != "True" ]]; then
        warn $LINENO "net.ipv4.ping_group_range ($low $high) excludes group $gid of $STACK_USER: the monitors in Mistral's executor need raw sockets (CAP_NET_RAW) to probe"
        return 0
    fi
    echo "$low $high" > "$TACKER_VIMMON_STATE_DIR/ping_group_range.orig"
    if (( low > high )); then
        # Closed ("1 0", the kernel's default): open it for that group.
        low=$gid
        high=$gid
    elif (( gid < low )); then
        low=$gid
    else
        high=$gid
    fi
    sudo sysctl -w net.ipv4.ping_group_range="$low $high"
}

function _tacker_vimmon_restore_icmp {
    local saved=$TACKER_VIMMON_STATE_DIR/ping_group_range.orig
    if [[ -f "$saved" ]]; then
        sudo sysctl -w net.ipv4.ping_group_range="$(cat "$saved")"
    fi
}

# The SQL of lib/database's recreate_database, less the CREATE. clean.sh
# stops a database server that devstack runs (unstack.sh --all) and then
# removes its data; only a server that still answers needs this.
function _tacker_vimmon_drop_database {
    local db=$TACKER_VIMMON_DB_NAME
    case $DATABASE_TYPE in
        mysql)
            MYSQL_PWD=$DATABASE_PASSWORD mysql -u"$DATABASE_USER" \
                -h"$MYSQL_HOST" -e "DROP DATABASE IF EXISTS $db;"
            ;;
        postgresql)
            PGPASSWORD=$DATABASE_PASSWORD psql -h"$DATABASE_HOST" \
                -U"$DATABASE_USER" -dtemplate1 -c "DROP DATABASE IF EXISTS $db"
            ;;
    esac
}

# Entry points
# ------------

function install_tacker_vimmon {
    setup_develop "$TACKER_VIMMON_DIR"
    # "openstack vim ..." is python-tackerclient's part of the openstack
    # command; devstack installs the command itself unless it comes from git.
    pip_install_gr python-tackerclient
    if ! use_library_from_git python-openstackclient; then
        pip_install_gr python-openstackclient
    fi
    # uWSGI is devstack's (install_apache_uwsgi: Debian's uwsgi and its
    # python3 plugin on Debian and Ubuntu).
}

function _tacker_vimmon_configure_auth {
    if is_service_enabled keystone; then
        iniset "$TACKER_VIMMON_CONF" DEFAULT auth_strategy keystone
        configure_keystone_authtoken_middleware "$TACKER_VIMMON_CONF" \
            tacker-vimmon
        iniset "$TACKER_VIMMON_CONF" mistral auth_type password
        iniset "$TACKER_VIMMON_CONF" mistral auth_url "$KEYSTONE_SERVICE_URI"
        iniset "$TACKER_VIMMON_CONF" mistral username tacker-vimmon
        iniset "$TACKER_VIMMON_CONF" mistral password "$SERVICE_PASSWORD"
        iniset "$TACKER_VIMMON_CONF" mistral project_name \
            "$SERVICE_PROJECT_NAME"
        iniset "$TACKER_VIMMON_CONF" mistral user_domain_name \
            "$SERVICE_DOMAIN_NAME"
        iniset "$TACKER_VIMMON_CONF" mistral project_domain_name \
            "$SERVICE_DOMAIN_NAME"
        iniset "$TACKER_VIMMON_CONF" mistral region_name "$REGION_NAME"
    else
        # No Keystone: the API trusts its callers and Mistral runs without
        # auth ([pecan] auth_enable = False); [mistral] auth_type stays unset.
        iniset "$TACKER_VIMMON_CONF" DEFAULT auth_strategy noauth
    fi
}

function _tacker_vimmon_configure_api {
    # write_uwsgi_config appends its ProxyPass to the Apache site: start the
    # site afresh so that a second stack does not add another.
    sudo rm -f "$(apache_site_config_for "$TACKER_VIMMON_UWSGI_NAME")"
    write_uwsgi_config "$TACKER_VIMMON_UWSGI_CONF" "$TACKER_VIMMON_UWSGI" \
        "$TACKER_VIMMON_URL_PATH" "" "$TACKER_VIMMON_UWSGI_NAME"
    iniset "$TACKER_VIMMON_UWSGI_CONF" uwsgi env \
        "TACKER_VIMMON_CONFIG_FILE=$TACKER_VIMMON_CONF"
}

function configure_tacker_vimmon {
    sudo install -d -o "$STACK_USER" "$TACKER_VIMMON_CONF_DIR" \
        "$TACKER_VIMMON_STATE_DIR"
    sudo install -d -o "$STACK_USER" -m 700 "$TACKER_VIMMON_KEY_DIR"
    rm -f "$TACKER_VIMMON_CONF" "$TACKER_VIMMON_MONITOR_CONF"

    iniset "$TACKER_VIMMON_CONF" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$TACKER_VIMMON_CONF" DEFAULT state_path "$TACKER_VIMMON_STATE_DIR"
    iniset_rpc_backend tacker-vimmon "$TACKER_VIMMON_CONF"
    iniset "$TACKER_VIMMON_CONF" database connection \
        "$(database_connection_url "$TACKER_VIMMON_DB_NAME")"
    iniset "$TACKER_VIMMON_CONF" vim_keys key_repository \
        "$TACKER_VIMMON_KEY_DIR"
    _tacker_vimmon_configure_auth
    if is_service_enabled tacker-vimmon-api; then
        _tacker_vimmon_configure_api
    fi

    # The monitor action's own file (SYSTEMD_ENV_VARS in devstack/settings
    # names it to the executor): the broker of the conductors, no secret of
    # the services.
    iniset_rpc_backend tacker-vimmon "$TACKER_VIMMON_MONITOR_CONF"
    _tacker_vimmon_allow_icmp
}

function create_tacker_vimmon_accounts {
    create_service_user tacker-vimmon admin
    local service
    service=$(get_or_create_service tacker-vimmon \
        "$TACKER_VIMMON_SERVICE_TYPE" "VIM registry and monitor")
    get_or_create_endpoint "$service" "$REGION_NAME" \
        "$SERVICE_PROTOCOL://$SERVICE_HOST$TACKER_VIMMON_URL_PATH"
}

function init_tacker_vimmon {
    recreate_database "$TACKER_VIMMON_DB_NAME"
    "$TACKER_VIMMON_BIN_DIR/tacker-vimmon-db-manage" \
        --config-file "$TACKER_VIMMON_CONF" upgrade head
    "$TACKER_VIMMON_BIN_DIR/tacker-vimmon-manage-keys" \
        --config-file "$TACKER_VIMMON_CONF" setup
    # Here rather than in post-config: every plugin's configuration and
    # local.conf's post-config sections are in mistral.conf by now, in
    # whichever order the plugins were enabled.
    if is_service_enabled mistral &&
        [[ -z "$(iniget "$TACKER_VIMMON_CONF" mistral endpoint_override)" ]]; then
        iniset "$TACKER_VIMMON_CONF" mistral endpoint_override \
            "$(_tacker_vimmon_mistral_url)"
    fi
}

function start_tacker_vimmon {
    run_process tacker-vimmon-conductor \
        "$TACKER_VIMMON_BIN_DIR/tacker-vimmon-conductor --config-file $TACKER_VIMMON_CONF"
    if is_service_enabled tacker-vimmon-api; then
        run_process tacker-vimmon-api \
            "$(which uwsgi) --procname-prefix tacker-vimmon-api --ini $TACKER_VIMMON_UWSGI_CONF"
        local url=$SERVICE_PROTOCOL://$SERVICE_HOST$TACKER_VIMMON_URL_PATH/
        if ! wait_for_service "$SERVICE_TIMEOUT" "$url"; then
            die $LINENO "tacker-vimmon-api did not answer at $url; see" \
                "journalctl -u devstack@tacker-vimmon-api"
        fi
    fi
}

function stop_tacker_vimmon {
    stop_process tacker-vimmon-api
    stop_process tacker-vimmon-conductor
}

function cleanup_tacker_vimmon {
    # The name given to write_uwsgi_config: it names the Apache site.
    remove_uwsgi_config "$TACKER_VIMMON_UWSGI_CONF" "$TACKER_VIMMON_UWSGI_NAME"
    sudo rm -f "$(apache_site_config_for "$TACKER_VIMMON_UWSGI_NAME")"
    if ! _tacker_vimmon_drop_database; then
        echo "Database $TACKER_VIMMON_DB_NAME not dropped: its server does" \
            "not answer (clean.sh removes the data of devstack's own server)"
    fi
    _tacker_vimmon_restore_icmp
    sudo rm -rf "$TACKER_VIMMON_CONF_DIR" "$TACKER_VIMMON_STATE_DIR"
}

if is_service_enabled tacker-vimmon-api tacker-vimmon-conductor; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing tacker-vimmon"
        install_tacker_vimmon
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring tacker-vimmon"
        configure_tacker_vimmon
        if is_service_enabled keystone; then
            create_tacker_vimmon_accounts
        fi
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initializing and starting tacker-vimmon"
        init_tacker_vimmon
        start_tacker_vimmon
    fi

    if [[ "$1" == "unstack" ]]; then
        echo_summary "Stopping tacker-vimmon"
        stop_tacker_vimmon
    fi

    if [[ "$1" == "clean" ]]; then
        echo_summary "Cleaning up tacker-vimmon"
        cleanup_tacker_vimmon
    fi
fi

$XTRACE
