#!/usr/bin/env bash
# Prepares a PostgreSQL database for Farm:Cluster:Provider=postgres: applies scripts/postgres-schema.sql (Orleans'
# query table plus Farm's membership, grain-state and reminder tables) in one transaction with psql.
#
# Usage: scripts/postgres-schema.sh CONNECTION...
#   CONNECTION is what psql takes: a URL (postgresql://farm:secret@db:5432/farm) or options (-h db -p 5432 -U farm
#   -d farm); PGPASSWORD and the other libpq variables work as usual. The database must exist.
#
# Idempotent: a second run keeps the data and rewrites the queries (do it after upgrading Farm). A database that
# already holds Orleans' own ADO.NET schema (OrleansQuery without Farm's tables) is left as it is: Farm's silos
# work with that schema too.
set -euo pipefail

if (($# == 0)); then
  echo "usage: $0 CONNECTION...   (a postgresql:// URL or psql's -h/-p/-U/-d options)" >&2
  exit 2
fi
command -v psql >/dev/null || { echo "postgres-schema: psql not found (scripts/setup.sh installs postgresql)" >&2; exit 1; }

schema="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/postgres-schema.sql"
# "relation already exists, skipping" on a second run is expected, not news.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

foreign=$(psql "$@" -X -A -t -q -v ON_ERROR_STOP=1 \
  -c "SELECT to_regclass('orleansquery') IS NOT NULL AND to_regclass('farm_membership') IS NULL")
if [[ $foreign == t ]]; then
  echo "postgres-schema: the database already has Orleans' own schema (OrleansQuery without Farm's tables); left unchanged"
  exit 0
fi

psql "$@" -X -q -v ON_ERROR_STOP=1 --single-transaction -f "$schema"
queries=$(psql "$@" -X -A -t -q -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM OrleansQuery")
echo "postgres-schema: applied $schema ($queries Orleans queries)"
