#!/bin/bash
# A stand-in for Mistral's devstack plugin, for tacker-vimmon's plugin test.
#
# Like Mistral's: it writes mistral.conf anew in post-config, starts
# devstack@mistral-api, -engine, -executor and -event-engine when all four
# are enabled and one devstack@mistral (--server all) otherwise, puts the
# API at /workflow on the service host, and stops every unit in unstack.
# Unlike it: the database is the one the test made (a copy of a migrated
# Mistral database, seconds faster than mistral-db-manage), there is no
# Keystone ([pecan] auth_enable = False), and the API behind /workflow is
# mistral-server's own (on [api] port) rather than uWSGI's.

# shellcheck disable=SC2154  # fake-devstack.sh and settings set the rest

function _mistral_is_split {
    is_service_enabled mistral-api && is_service_enabled mistral-engine &&
        is_service_enabled mistral-executor &&
        is_service_enabled mistral-event-engine
}

function _mistral_server {
    echo "$MISTRAL_BIN_DIR/mistral-server --server $1 --config-file $MISTRAL_CONF_FILE"
}

function configure_mistral {
    mkdir -p "$MISTRAL_CONF_DIR"
    rm -f "$MISTRAL_CONF_FILE"
    iniset "$MISTRAL_CONF_FILE" DEFAULT debug False
    iniset_rpc_backend mistral "$MISTRAL_CONF_FILE"
    iniset "$MISTRAL_CONF_FILE" database connection "$FAKE_MISTRAL_DB_URL"
    iniset "$MISTRAL_CONF_FILE" api host "$MISTRAL_SERVICE_HOST"
    iniset "$MISTRAL_CONF_FILE" pecan auth_enable False
    iniset "$MISTRAL_CONF_FILE" cron_trigger enabled False
    iniset "$MISTRAL_CONF_FILE" oslo_policy enforce_new_defaults False
    iniset "$MISTRAL_CONF_FILE" oslo_policy enforce_scope False
}

function start_mistral {
    if _mistral_is_split; then
        local port
        port=$(iniget "$MISTRAL_CONF_FILE" api port)
        write_local_proxy_http_config mistral-api \
            "http://$MISTRAL_SERVICE_HOST:${port:-8989}" /workflow
        run_process mistral-api "$(_mistral_server api)"
        run_process mistral-engine "$(_mistral_server engine)"
        run_process mistral-executor "$(_mistral_server executor)"
        run_process mistral-event-engine "$(_mistral_server event-engine)"
    else
        run_process mistral "$(_mistral_server all)"
    fi
}

function stop_mistral {
    local service
    for service in mistral mistral-api mistral-engine mistral-executor mistral-event-engine; do
        stop_process $service
    done
}

function cleanup_mistral {
    disable_apache_site mistral-api
    rm -f "$(apache_site_config_for mistral-api)"
    rm -rf "$MISTRAL_CONF_DIR"
}

if is_service_enabled mistral; then
    if [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        configure_mistral
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        start_mistral
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_mistral
    fi
    if [[ "$1" == "clean" ]]; then
        cleanup_mistral
    fi
fi
