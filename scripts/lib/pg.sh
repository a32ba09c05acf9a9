# Start a throw-away PostgreSQL 15 server (sourced by .ci/run and scripts/bench).
# After `pg_start <dbname>`: PG_URL is a postgresql+psycopg:// URL of an empty database; the server is stopped
# and its folder removed when the calling shell exits (EXIT trap). Durability settings are off for speed.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_STARTED=0

pg_cleanup() {
    local rc=$?
    if ((PG_STARTED)); then
        echo "[pg] stopping PostgreSQL"
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [[ -n "${PGDIR:-}" ]] && rm -rf "$PGDIR"
    exit "$rc"
}

pg_start() {
    local dbname="$1"
    shift
    local exe
    for exe in initdb pg_ctl createdb; do
        [[ -x "$PG_BIN/$exe" ]] || { echo "missing $PG_BIN/$exe (Debian package postgresql-15)" >&2; exit 1; }
    done
    # initdb refuses to run as root: the server runs as user postgres, which must own the data and socket folder.
    if [[ $(id -u) -eq 0 ]]; then as_pg=(runuser -u postgres --); else as_pg=(); fi
    PGDIR="$(mktemp -d /tmp/anjian-pg.XXXXXX)"
    trap pg_cleanup EXIT
    trap 'exit 130' INT TERM
    [[ $(id -u) -eq 0 ]] && chown postgres: "$PGDIR"
    local port
    port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "[pg] initdb in $PGDIR/data"
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$PGDIR/data" -A trust -U anjian --locale=C.UTF-8 -E UTF8 --no-sync \
        >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; exit 1; }
    echo "[pg] starting PostgreSQL on 127.0.0.1:$port"
    PG_STARTED=1
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
        -o "-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off $*" \
        start >/dev/null || { cat "$PGDIR/server.log" >&2; exit 1; }
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U anjian "$dbname"
    PG_URL="postgresql+psycopg://anjian@127.0.0.1:$port/$dbname"
    echo "[pg] database $dbname ready ($("$PG_BIN/postgres" --version))"
}
