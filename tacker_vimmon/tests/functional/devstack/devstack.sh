#!/bin/bash
# devstack's three commands, for the plugins enabled in a local.conf, with
# the helpers of fake-devstack.sh:
#
#   devstack.sh stack LOCAL_CONF      (stack.sh's plugin phases, in order)
#   devstack.sh unstack LOCAL_CONF    (unstack.sh)
#   devstack.sh clean LOCAL_CONF      (clean.sh: unstack, then clean)
#
# Each runs in a shell of its own, as devstack's do, and sources the
# plugins' settings first (the "source" phase).
mode=$1
localconf=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=fake-devstack.sh
source "$HERE/fake-devstack.sh"
source_localrc "$localconf"
load_plugin_settings
# The trace of every command, apart from what the commands print.
exec 19>> "$FAKE_DEVSTACK_ROOT/$mode.xtrace"
BASH_XTRACEFD=19
set -o xtrace

case $mode in
    stack)
        set -o errexit
        run_phase stack pre-install
        run_phase stack install
        run_phase stack post-config
        merge_config_group "$localconf" post-config
        merge_config_group "$localconf" extra
        run_phase stack extra
        merge_config_group "$localconf" post-extra
        run_phase stack test-config
        merge_config_group "$localconf" test-config
        ;;
    unstack)
        run_phase unstack
        ;;
    clean)
        "$0" unstack "$localconf"
        run_phase clean
        # clean.sh's own: devstack's units and its web server go. It removes
        # $DATA_DIR too, which is left here so that the test sees what the
        # plugins leave behind.
        stop_apache_server
        rm -f "$FAKE_UNITS"/devstack@*
        ;;
    *)
        echo "usage: $0 stack|unstack|clean LOCAL_CONF" >&2
        exit 2
        ;;
esac
