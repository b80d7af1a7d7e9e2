#!/usr/bin/env bash
# A team, its KPIs (one CSV) and a season of check-ins (JSON Lines) in a fresh database.
#   KPICTL_DB=/tmp/team.db examples/setup_team.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${KPICTL_DB:?set KPICTL_DB to the database to fill}"
export KPICTL_DB KPICTL_NOW="${KPICTL_NOW:-2026-11-27T12:00:00Z}"

kpictl -q people add maya --name "Maya Okafor" --skill leadership:5 --capacity 8
kpictl -q people add ana --name "Ana Lima" --skill sales:5 --manager maya
kpictl -q people add ben --name "Ben Carter" --skill support:4 --skill sales:2 --manager maya
kpictl -q people add chen --name "Chen Wei" --skill engineering:5 --skill reliability:4 --manager maya
kpictl -q people add dara --name "Dara Novak" --skill marketing:4 --manager maya

kpictl assign --file "$here/data/kpis.csv"
kpictl checkin --file "$here/data/checkins.jsonl"
kpictl feedback sales.new-arr "Strong pipeline; push the two enterprise deals over the line" --by maya
