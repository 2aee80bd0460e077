#!/bin/bash
#
# devstack plugin for tacker-vimmon: the VIM registry (API server) and the
# conductor that the VIM monitor actions running in Mistral report to.
#
# Needs Mistral (enable_plugin mistral ...) listed before this plugin.

XTRACE=$(set +o | grep xtrace)
set -o xtrace

function install_tacker_vimmon {
    setup_develop $TACKER_VIMMON_DIR
    # The monitor action runs inside Mistral's executor, which finds it
    # through the mistral.actions entry point of this installed package.
    pip_install uwsgi
}

function _tacker_vimmon_set_mistral_auth {
    iniset $TACKER_VIMMON_CONF mistral auth_type password
    iniset $TACKER_VIMMON_CONF mistral auth_url $KEYSTONE_SERVICE_URI
    iniset $TACKER_VIMMON_CONF mistral username tacker-vimmon
    iniset $TACKER_VIMMON_CONF mistral password $SERVICE_PASSWORD
    iniset $TACKER_VIMMON_CONF mistral project_name $SERVICE_PROJECT_NAME
    iniset $TACKER_VIMMON_CONF mistral user_domain_name $SERVICE_DOMAIN_NAME
    iniset $TACKER_VIMMON_CONF mistral project_domain_name $SERVICE_DOMAIN_NAME
    iniset $TACKER_VIMMON_CONF mistral region_name $REGION_NAME
}

function configure_tacker_vimmon {
    sudo install -d -o $STACK_USER $TACKER_VIMMON_CONF_DIR
    sudo install -d -o $STACK_USER -m 700 $TACKER_VIMMON_KEY_DIR
    rm -f $TACKER_VIMMON_CONF $TACKER_VIMMON_MONITOR_CONF

    iniset $TACKER_VIMMON_CONF DEFAULT debug $ENABLE_DEBUG_LOG_LEVEL
    iniset $TACKER_VIMMON_CONF DEFAULT auth_strategy keystone
    iniset_rpc_backend tacker-vimmon $TACKER_VIMMON_CONF
    iniset $TACKER_VIMMON_CONF database connection \
        $(database_connection_url tacker_vimmon)
    iniset $TACKER_VIMMON_CONF vim_keys key_repository $TACKER_VIMMON_KEY_DIR
    iniset $TACKER_VIMMON_CONF vim_monitor check_interval \
        $TACKER_VIMMON_CHECK_INTERVAL
    configure_keystone_authtoken_middleware $TACKER_VIMMON_CONF tacker-vimmon
    _tacker_vimmon_set_mistral_auth

    write_uwsgi_config "$TACKER_VIMMON_UWSGI_CONF" "$TACKER_VIMMON_UWSGI" \
        "/nfv-orchestration" "" "tacker-vimmon-api"
    iniset $TACKER_VIMMON_UWSGI_CONF uwsgi env \
        "TACKER_VIMMON_CONFIG_FILE=$TACKER_VIMMON_CONF"

    _configure_mistral_for_tacker_vimmon
}

# The monitor actions read a small file of their own (never Mistral's, and
# not the services' tacker-vimmon.conf with its passwords): the broker of
# the conductors. Write it, tell the executor where it is, and give the
# executor enough threads for one long-lived action per VIM.
function _configure_mistral_for_tacker_vimmon {
    iniset_rpc_backend tacker-vimmon $TACKER_VIMMON_MONITOR_CONF
    iniset $MISTRAL_CONF_FILE DEFAULT executor_thread_pool_size \
        $TACKER_VIMMON_EXECUTOR_THREADS
    local dropin=$SYSTEMD_DIR/devstack@mistral-executor.service.d
    sudo mkdir -p $dropin
    printf '[Service]\nEnvironment=TACKER_VIMMON_MONITOR_CONFIG_FILE=%s\n' \
        "$TACKER_VIMMON_MONITOR_CONF" |
        sudo tee $dropin/tacker-vimmon.conf >/dev/null
    $SYSTEMCTL daemon-reload
}

function create_tacker_vimmon_accounts {
    create_service_user tacker-vimmon admin
    local service
    service=$(get_or_create_service tacker-vimmon \
        $TACKER_VIMMON_SERVICE_TYPE "VIM registry and monitor")
    get_or_create_endpoint $service $REGION_NAME \
        "$SERVICE_PROTOCOL://$SERVICE_HOST/nfv-orchestration"
}

function init_tacker_vimmon {
    recreate_database tacker_vimmon
    $TACKER_VIMMON_BIN_DIR/tacker-vimmon-db-manage \
        --config-file $TACKER_VIMMON_CONF upgrade head
    $TACKER_VIMMON_BIN_DIR/tacker-vimmon-manage-keys \
        --config-file $TACKER_VIMMON_CONF setup
}

function start_tacker_vimmon {
    run_process tacker-vimmon-conductor \
        "$TACKER_VIMMON_BIN_DIR/tacker-vimmon-conductor --config-file $TACKER_VIMMON_CONF"
    run_process tacker-vimmon-api \
        "$TACKER_VIMMON_BIN_DIR/uwsgi --procname-prefix tacker-vimmon-api --ini $TACKER_VIMMON_UWSGI_CONF"
    # Pick up the environment and pool size set above.
    restart_service devstack@mistral-executor
}

function stop_tacker_vimmon {
    stop_process tacker-vimmon-api
    stop_process tacker-vimmon-conductor
}

function cleanup_tacker_vimmon {
    remove_uwsgi_config "$TACKER_VIMMON_UWSGI_CONF" "$TACKER_VIMMON_UWSGI"
    sudo rm -rf $TACKER_VIMMON_CONF_DIR \
        $SYSTEMD_DIR/devstack@mistral-executor.service.d/tacker-vimmon.conf
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
        stop_tacker_vimmon
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_tacker_vimmon
    fi
fi

$XTRACE
