#!/usr/bin/env bash
# A Lookout cluster on one machine without Docker: PostgreSQL, N silo processes on loopback ports and,
# when nginx is installed, nginx balancing across them. The fault tests drive their clusters with it.
#
#   scripts/cluster.sh start          PostgreSQL (unless LOOKOUT_CLUSTER_PG is set), silos, nginx
#   scripts/cluster.sh stop           SIGTERM every silo (they flush), stop nginx and our PostgreSQL
#   scripts/cluster.sh status         one line per silo, and GET /api/cluster from the first live one
#   scripts/cluster.sh kill N         SIGKILL silo N (1-based): a crash, nothing flushed
#   scripts/cluster.sh term N         SIGTERM silo N and wait for it to exit
#   scripts/cluster.sh restart N      start silo N again (after kill/term)
#   scripts/cluster.sh pg-stop|pg-start   stop (fast) or start the cluster's own PostgreSQL
#   scripts/cluster.sh clean          stop, then delete the state folder and the private database
#
# Settings (environment):
#   LOOKOUT_CLUSTER_DIR    state: pids, logs, ports (default ./data/cluster)
#   LOOKOUT_CLUSTER_SILOS  number of silos (default 3)
#   LOOKOUT_CLUSTER_PORTS  silos' HTTP ports, space separated (default 5091 5092 …); nginx listens on
#                          LOOKOUT_CLUSTER_LB_PORT (default 5090)
#   LOOKOUT_CLUSTER_SILO_PORTS     Orleans silo-to-silo ports (default 11111 11112 …)
#   LOOKOUT_CLUSTER_GATEWAY_PORTS  Orleans gateway ports (default 30000 30001 …)
#   LOOKOUT_CLUSTER_PG     an existing PostgreSQL connection string; unset: a private server is started
#   LOOKOUT_CLUSTER_DLL    Lookout.Api.dll to run (default: built in Release when missing)
#   Lookout__*             any Lookout setting, passed to every silo as usual
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${LOOKOUT_CLUSTER_DIR:-$root/data/cluster}
silos=${LOOKOUT_CLUSTER_SILOS:-3}
lb_port=${LOOKOUT_CLUSTER_LB_PORT:-5090}

pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 300))); do port_busy "$p" || { echo "$p"; return 0; }; done
  return 1
}

silo_port() {
  if [ -n "${LOOKOUT_CLUSTER_PORTS:-}" ]; then
    echo "$LOOKOUT_CLUSTER_PORTS" | tr ' ' '\n' | sed -n "${1}p"
  else
    echo $((lb_port + $1))
  fi
}

# The n-th word of a space-separated list, or a default base + n - 1.
nth_port() { if [ -n "$1" ]; then echo "$1" | tr ' ' '\n' | sed -n "${3}p"; else echo $(($2 + $3 - 1)); fi; }
orleans_silo_port() { nth_port "${LOOKOUT_CLUSTER_SILO_PORTS:-}" 11111 "$1"; }
orleans_gateway_port() { nth_port "${LOOKOUT_CLUSTER_GATEWAY_PORTS:-}" 30000 "$1"; }

dll() {
  local path=${LOOKOUT_CLUSTER_DLL:-$root/src/Lookout.Api/bin/Release/net10.0/Lookout.Api.dll}
  if [ ! -f "$path" ]; then
    echo "cluster: building Lookout (Release)" >&2
    dotnet build "$root/src/Lookout.Api" -c Release -v quiet >&2
  fi
  echo "$path"
}

connection_string() {
  if [ -n "${LOOKOUT_CLUSTER_PG:-}" ]; then echo "$LOOKOUT_CLUSTER_PG"; else cat "$dir/pg.connection"; fi
}

pg_start() {
  [ -n "${LOOKOUT_CLUSTER_PG:-}" ] && return 0
  local bin pgdir port
  bin=$(pg_bin_dir)
  [ -n "$bin" ] || { echo "cluster: PostgreSQL is not installed (apt-get install postgresql) and LOOKOUT_CLUSTER_PG is unset" >&2; exit 1; }
  if [ ! -f "$dir/pg.dir" ]; then
    # Outside the repository: the postgres user must be able to reach it.
    pgdir=$(mktemp -d /tmp/lookout-cluster-pg.XXXXXX)
    chmod 755 "$pgdir"
    [ "$(id -u)" = 0 ] && chown postgres "$pgdir"
    run_pg "$bin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port 56432)
    echo "$pgdir" >"$dir/pg.dir"
    echo "$port" >"$dir/pg.port"
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres" >"$dir/pg.connection"
  fi
  pgdir=$(cat "$dir/pg.dir")
  port=$(cat "$dir/pg.port")
  # Durable defaults (fsync on): a 204 means the report is on disk.
  run_pg "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
}

pg_stop() {
  [ -f "$dir/pg.dir" ] || return 0
  run_pg "$(pg_bin_dir)/pg_ctl" -D "$(cat "$dir/pg.dir")/data" -m fast -w stop >/dev/null 2>&1 || true
}

# A killed silo may linger as a zombie when nothing reaps orphans (containers): not alive.
pid_alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
silo_alive() { [ -f "$dir/silo$1.pid" ] && pid_alive "$(cat "$dir/silo$1.pid")"; }

# The read side's token: LOOKOUT_CLUSTER_TOKEN, or one made once per cluster folder ($dir/token).
cluster_token() {
  if [ -n "${LOOKOUT_CLUSTER_TOKEN:-}" ]; then echo "$LOOKOUT_CLUSTER_TOKEN"; return; fi
  [ -s "$dir/token" ] || { mkdir -p "$dir"; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/token"; }
  cat "$dir/token"
}

start_silo() {
  local n=$1 port path
  port=$(silo_port "$n")
  path=$(dll)
  if silo_alive "$n"; then echo "cluster: silo $n already runs" >&2; return 0; fi
  # With nginx in front, the per-client rate limit must see X-Forwarded-For, trusted from nginx's
  # address only; behind a proxy the read side needs a token, so every silo gets the cluster's.
  local proxy=()
  command -v nginx >/dev/null && proxy=(Lookout__ForwardedHeaders__KnownProxies__0=127.0.0.1)
  # Silos on one host differ only in their HTTP port and their Orleans silo and gateway ports.
  env "${proxy[@]}" \
  Lookout__AdminToken="$(cluster_token)" \
  Lookout__Cluster__SiloPort="$(orleans_silo_port "$n")" \
  Lookout__Cluster__GatewayPort="$(orleans_gateway_port "$n")" \
  Lookout__Storage__Provider=postgres \
  Lookout__Storage__ConnectionString="$(connection_string)" \
    nohup dotnet "$path" --urls "http://127.0.0.1:$port" >>"$dir/silo$n.log" 2>&1 </dev/null &
  echo $! >"$dir/silo$n.pid"
  echo "$port" >"$dir/silo$n.port"
}

wait_ready() {
  local n=$1 port i
  port=$(silo_port "$n")
  for i in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then return 0; fi
    silo_alive "$n" || { echo "cluster: silo $n exited; log:" >&2; tail -n 30 "$dir/silo$n.log" >&2; return 1; }
    sleep 0.1
  done
  echo "cluster: silo $n not ready after 30 s" >&2
  return 1
}

nginx_start() {
  command -v nginx >/dev/null || { echo "cluster: nginx not installed; post to the silos directly (apt-get install nginx for a balancer)"; return 0; }
  local n servers=""
  for n in $(seq 1 "$silos"); do servers+="    server 127.0.0.1:$(silo_port "$n") max_fails=3 fail_timeout=5s;"$'\n'; done
  mkdir -p "$dir/nginx"
  cat >"$dir/nginx/nginx.conf" <<EOF
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  upstream lookout {
$servers  }
  server {
    listen 127.0.0.1:$lb_port;
    client_max_body_size 1m;
    location / {
      proxy_pass http://lookout;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_502 http_504;
    }
  }
}
EOF
  nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx"
  echo "cluster: nginx on http://127.0.0.1:$lb_port"
}

nginx_stop() {
  [ -f "$dir/nginx/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null || true
}

term_silo() {
  local n=$1 pid i
  silo_alive "$n" || return 0
  pid=$(cat "$dir/silo$n.pid")
  kill -TERM "$pid"
  for i in $(seq 1 300); do pid_alive "$pid" || return 0; sleep 0.1; done
  echo "cluster: silo $n still runs 30 s after SIGTERM" >&2
  return 1
}

mkdir -p "$dir"
case "${1:-}" in
  start)
    pg_start
    for n in $(seq 1 "$silos"); do start_silo "$n"; done
    for n in $(seq 1 "$silos"); do wait_ready "$n"; echo "cluster: silo $n on http://127.0.0.1:$(silo_port "$n")"; done
    nginx_start
    ;;
  stop)
    nginx_stop
    for n in $(seq 1 "$silos"); do term_silo "$n" || true; done
    pg_stop
    ;;
  status)
    for n in $(seq 1 "$silos"); do
      if silo_alive "$n"; then echo "silo $n: running, pid $(cat "$dir/silo$n.pid"), port $(silo_port "$n")"; else echo "silo $n: stopped"; fi
    done
    for n in $(seq 1 "$silos"); do
      silo_alive "$n" && { curl -fsS -H "Authorization: Bearer $(cluster_token)" "http://127.0.0.1:$(silo_port "$n")/api/cluster"; echo; break; }
    done
    ;;
  clean)
    "$0" stop
    [ -f "$dir/pg.dir" ] && rm -rf "$(cat "$dir/pg.dir")"
    rm -rf "$dir"
    ;;
  kill)
    if silo_alive "$2"; then
      pid=$(cat "$dir/silo$2.pid")
      kill -KILL "$pid"
      while pid_alive "$pid"; do sleep 0.05; done
    fi
    ;;
  term) term_silo "$2" ;;
  restart) start_silo "$2"; wait_ready "$2" ;;
  pg-stop) pg_stop ;;
  pg-start) pg_start ;;
  *) sed -n '2,24p' "$0"; exit 2 ;;
esac
