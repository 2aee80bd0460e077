#!/usr/bin/env bash
# Install and start what tacker-vimmon's tests and local run need from the
# machine: Debian packages for RabbitMQ, PostgreSQL, MariaDB, the network
# tools, Graphviz and PlantUML (the documentation's diagrams) and what the
# deployment tests run (Debian's uWSGI and its python3 plugin, Apache's
# binary for devstack's proxy, systemd's tools, shellcheck, python3-venv
# for .venv-deploy), each service started if it is not already serving;
# and Prometheus, which the tests start themselves (its packaged daemon is
# kept from starting). Safe to run again: it installs only what is missing
# and starts only what is down.
set -euo pipefail

PACKAGES=(rabbitmq-server postgresql mariadb-server iproute2 iputils-ping
          graphviz plantuml uwsgi-core uwsgi-plugin-python3 apache2-bin
          systemd shellcheck python3-venv curl)

log() { echo "install-deps: $*"; }

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
            grep -q 'install ok installed' || echo "$pkg"
    done
}

install_packages() {
    local missing
    missing=$(missing_packages)
    [ -z "$missing" ] && return 0
    log "installing Debian packages: $missing"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
}

prometheus_installed() {
    dpkg-query -W -f='${Status}' prometheus 2>/dev/null |
        grep -q 'install ok installed'
}

# The tests start Prometheus with a configuration of their own: install
# the server alone (no exporters) and keep Debian from starting its daemon.
install_prometheus() {
    prometheus_installed && return 0
    log "installing Prometheus (its daemon stays stopped)"
    local sudo="" policy=/usr/sbin/policy-rc.d made_policy=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod +x "$policy"
        made_policy=yes
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends prometheus || {
        [ -n "$made_policy" ] && $sudo rm -f "$policy"; return 1; }
    [ -n "$made_policy" ] && $sudo rm -f "$policy"
    return 0
}

listening() {
    # True when something accepts TCP connections on 127.0.0.1:$1.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_port() {
    local port=$1 name=$2 deadline=$((SECONDS + 90))
    until listening "$port"; do
        if [ $SECONDS -ge $deadline ]; then
            log "ERROR: $name did not start listening on 127.0.0.1:$port"
            return 1
        fi
        sleep 1
    done
}

start_postgresql() {
    listening 5432 && return 0
    log "starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for_port 5432 PostgreSQL
}

start_mariadb() {
    listening 3306 && return 0
    log "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for_port 3306 MariaDB
}

start_rabbitmq() {
    listening 5672 && return 0
    log "starting RabbitMQ"
    rabbitmq-server -detached
    wait_for_port 5672 RabbitMQ
}

# The tests log in as postgres without a password over TCP (trust) and as
# root without a password to MariaDB, as on this kind of machine; a freshly
# installed server needs the same.
configure_postgresql_trust() {
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | sort -V | tail -1)
    [ -n "$hba" ] || return 0
    if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
        log "allowing local trust logins in $hba"
        sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
        listening 5432 && pg_ctlcluster --skip-systemctl-redirect \
            "$(basename "$(dirname "$(dirname "$hba")")")" main reload
    fi
}

configure_mariadb_root() {
    mysql -uroot -h127.0.0.1 -e 'SELECT 1' >/dev/null 2>&1 && return 0
    log "letting root log in over TCP without a password"
    mysql -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD(''); FLUSH PRIVILEGES;"
}

install_packages
install_prometheus
configure_postgresql_trust
start_postgresql
start_mariadb
configure_mariadb_root
start_rabbitmq
log "RabbitMQ, PostgreSQL and MariaDB are serving"
