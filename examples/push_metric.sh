#!/usr/bin/env bash
# Push a metric from another system as an idempotent check-in: the key is the day, so a cron job
# that runs twice (or is re-run after a failure) records the day once.
#   SOURCE_DB=shop.db examples/push_metric.sh sales.orders
# Here the metric is a SQL query on a SQLite file; any command that prints a number works.
set -euo pipefail
kpi="${1:?usage: push_metric.sh KPI_KEY}"
: "${SOURCE_DB:?set SOURCE_DB to the database to query}"
day="$(date -u +%F)"
value="$(sqlite3 "$SOURCE_DB" "SELECT count(*) FROM orders WHERE date(created_at) <= '$day';")"
kpictl checkin "$kpi" "$value" --key "orders-$day" --note "from $(basename "$SOURCE_DB")"
