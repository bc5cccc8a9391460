#!/usr/bin/env bash
# Brings up the services the tests and demos need: Docker Engine, PostgreSQL and the worker
# image. Idempotent: what already answers is left alone. `down` stops only what `up` started.
#   scripts/services.sh up | down | status
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
state_dir=${HODEI_SERVICES_STATE_DIR:-/var/tmp/hodei-services}
worker_image=${HODEI_WORKER_IMAGE:-hodei/worker:$(node -p "require('$root/package.json').workerImageVersion" 2>/dev/null || echo 0.1.0)}
pg_url_default=postgres://hodei:hodei@127.0.0.1:5432/hodei
docker_host_default=unix:///var/run/docker.sock

did=()
say() { printf 'services: %s\n' "$*"; }
done_() { did+=("$*"); say "$*"; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
by_hand() {
  die "cannot $1 here (needs root on Debian). Start it by hand: $2"
}

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  done_ "installed $*"
}

docker_ok() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

up_docker() {
  if docker_ok; then
    say "Docker Engine $(docker version --format '{{.Server.Version}}') already answering"
    return
  fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "$docker_host_default" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine, or unset DOCKER_HOST to use the local one"
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    can_install || by_hand "install Docker Engine" "install Docker Engine, start dockerd, then run this again"
    apt_install docker.io
  fi
  can_install || by_hand "start dockerd" "sudo dockerd &"
  # A dockerd that was killed leaves its pid file behind and the next one refuses to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  mkdir -p "$state_dir"
  setsid dockerd >/var/log/hodei-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker_ok && break
    sleep 1
  done
  docker_ok || die "dockerd did not answer within 60 s; see /var/log/hodei-dockerd.log"
  touch "$state_dir/dockerd"
  done_ "started dockerd ($(docker version --format '{{.Server.Version}}'))"
}

pg_cluster() {
  # "<version> <name>" of the first cluster, or nothing
  pg_lsclusters -h 2>/dev/null | awk 'NR==1 { print $1, $2 }'
}

pg_ok() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

up_postgres() {
  if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    can_install || by_hand "install PostgreSQL" "install PostgreSQL 15+, listening on 127.0.0.1:5432, then run this again"
    apt_install postgresql
  fi
  if pg_ok; then
    say "PostgreSQL already answering on 127.0.0.1:5432"
  else
    can_install || by_hand "start PostgreSQL" "pg_ctlcluster <version> main start"
    local cluster
    cluster=$(pg_cluster)
    if [ -z "$cluster" ]; then
      local version
      version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
      pg_createcluster "$version" main >/dev/null
      cluster="$version main"
      done_ "created PostgreSQL cluster $cluster"
    fi
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start
    for _ in $(seq 1 30); do
      pg_ok && break
      sleep 1
    done
    pg_ok || die "PostgreSQL did not answer on 127.0.0.1:5432 within 30 s"
    mkdir -p "$state_dir"
    echo "$cluster" >"$state_dir/postgres"
    done_ "started PostgreSQL cluster $cluster"
  fi
  as_postgres() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtAX "$@"; }
  if [ "$(id -u)" = 0 ]; then
    if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'hodei'")" != 1 ]; then
      as_postgres -c "CREATE ROLE hodei LOGIN PASSWORD 'hodei' CREATEDB"
      done_ "created role hodei"
    fi
    if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = 'hodei'")" != 1 ]; then
      as_postgres -c "CREATE DATABASE hodei OWNER hodei"
      done_ "created database hodei"
    fi
  fi
  PGPASSWORD=hodei psql -qtAX -h 127.0.0.1 -U hodei -d hodei -c 'SELECT 1' >/dev/null 2>&1 ||
    die "cannot log in as hodei to database hodei; create them by hand: CREATE ROLE hodei LOGIN PASSWORD 'hodei' CREATEDB; CREATE DATABASE hodei OWNER hodei"
}

busybox_bin() {
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && file -L "$b" 2>/dev/null | grep -q 'statically linked'; then
      echo "$b"
      return
    fi
  done
  return 1
}

up_image() {
  if docker image inspect "$worker_image" >/dev/null 2>&1; then
    say "worker image $worker_image already built"
    return
  fi
  command -v file >/dev/null 2>&1 || { can_install && apt_install file; }
  local bb
  if ! bb=$(busybox_bin); then
    can_install || by_hand "install a static busybox" "install busybox-static, then run this again"
    apt_install busybox-static
    bb=$(busybox_bin) || die "busybox-static installed but no statically linked busybox found"
  fi
  local rootfs
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  cp "$bb" "$rootfs/bin/busybox"
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' \
    -c 'LABEL org.opencontainers.image.title=hodei-worker' \
    - "$worker_image" >/dev/null
  rm -rf "$rootfs"
  done_ "built worker image $worker_image from a static busybox"
}

# promtool (Debian's prometheus package) checks the server's /metrics in the tests. The
# package would start a Prometheus daemon: a policy-rc.d keeps it from starting one.
up_promtool() {
  if command -v promtool >/dev/null 2>&1; then
    say "promtool already installed"
    return
  fi
  can_install || by_hand "install promtool" "install Prometheus' promtool on the PATH, then run this again"
  local guard=/usr/sbin/policy-rc.d
  local had_guard=0
  [ -e "$guard" ] && had_guard=1
  if [ $had_guard = 0 ]; then
    printf '#!/bin/sh\nexit 101\n' >"$guard"
    chmod +x "$guard"
  fi
  apt_install prometheus || { [ $had_guard = 0 ] && rm -f "$guard"; die "could not install prometheus (for promtool)"; }
  [ $had_guard = 0 ] && rm -f "$guard"
  command -v promtool >/dev/null 2>&1 || die "the prometheus package installed no promtool"
}

# Debian's Chromium for the dashboard's browser tests (driven by playwright-core, which
# cannot download a browser here).
up_chromium() {
  if [ -x /usr/bin/chromium ]; then
    say "chromium already installed"
    return
  fi
  can_install || by_hand "install chromium" "install Debian's chromium (/usr/bin/chromium), then run this again"
  apt_install chromium || die "could not install chromium"
  [ -x /usr/bin/chromium ] || die "the chromium package installed no /usr/bin/chromium"
  done_ "installed chromium"
}

down() {
  if [ -f "$state_dir/postgres" ]; then
    # shellcheck disable=SC2046
    pg_ctlcluster $(cat "$state_dir/postgres") stop && say "stopped PostgreSQL cluster $(cat "$state_dir/postgres")"
    rm -f "$state_dir/postgres"
  fi
  if [ -f "$state_dir/dockerd" ]; then
    if [ -f /var/run/docker.pid ]; then
      kill "$(cat /var/run/docker.pid)" 2>/dev/null && say "stopped dockerd"
    fi
    rm -f "$state_dir/dockerd"
  fi
  say "down: nothing else was started by this script"
}

status() {
  docker_ok && say "Docker Engine: $(docker version --format '{{.Server.Version}}')" || say "Docker Engine: not answering"
  pg_ok && say "PostgreSQL: answering on 127.0.0.1:5432" || say "PostgreSQL: not answering"
  docker image inspect "$worker_image" >/dev/null 2>&1 && say "worker image: $worker_image" || say "worker image: missing"
  [ -x /usr/bin/chromium ] && say "chromium: $(/usr/bin/chromium --version 2>/dev/null)" || say "chromium: missing"
}

case "${1:-}" in
  up)
    up_docker
    up_postgres
    up_image
    up_promtool
    up_chromium
    [ ${#did[@]} -gt 0 ] || say "nothing to do: everything was already up"
    echo "export DOCKER_HOST=${DOCKER_HOST:-$docker_host_default}"
    echo "export DATABASE_URL=${DATABASE_URL:-$pg_url_default}"
    echo "export HODEI_WORKER_IMAGE=$worker_image"
    ;;
  down) down ;;
  status) status ;;
  *) die "usage: scripts/services.sh up|down|status" ;;
esac
