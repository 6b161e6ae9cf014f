#!/usr/bin/env bash
# Starts a private PostgreSQL server for the tests and exports LOOKOUT_TEST_POSTGRES; sourced by test.sh.
# Debian's PostgreSQL refuses to run as root, so as root the server runs as the postgres user.

pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

free_port() {
  local p
  for p in $(seq 55432 55632); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

start_throwaway_postgres() {
  if [ -n "${LOOKOUT_TEST_POSTGRES:-}" ]; then
    echo "test.sh: using the PostgreSQL server in LOOKOUT_TEST_POSTGRES"
    return 0
  fi
  local bin
  bin=$(pg_bin_dir)
  if [ -z "$bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing PostgreSQL (apt-get install postgresql)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_bin_dir)
  fi
  if [ -z "$bin" ]; then
    echo "test.sh: no PostgreSQL found; database tests will be skipped (they fail when CI=true)"
    return 0
  fi
  PG_TMP=$(mktemp -d /tmp/lookout-pg.XXXXXX)
  chmod 755 "$PG_TMP"
  local port run_as=()
  port=$(free_port)
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TMP"
    run_as=(runuser -u postgres --)
  fi
  PG_RUN_AS=("${run_as[@]}")
  PG_BIN=$bin
  "${run_as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log"; return 1; }
  # Tests run with fsync off (a crashed test server is thrown away; commits are still real transactions).
  # Benchmarks set LOOKOUT_PG_DURABLE=1: PostgreSQL's durable defaults, so a 204 means on disk.
  local durability="-c fsync=off -c full_page_writes=off"
  [ "${LOOKOUT_PG_DURABLE:-0}" = 1 ] && durability=""
  # LOOKOUT_PG_OPTIONS: extra server options (bench/run.sh's PG_STATEMENTS preloads pg_stat_statements).
  durability="$durability ${LOOKOUT_PG_OPTIONS:-}"
  "${run_as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 $durability -c max_connections=300" start >/dev/null \
    || { cat "$PG_TMP/server.log"; return 1; }
  export LOOKOUT_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "test.sh: throwaway PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_throwaway_postgres() {
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    "${PG_RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
