#!/usr/bin/env bash
# Questions answered from `kpictl report --json` with jq (the JSON contract is versioned:
# `kpictl schema report`).
set -euo pipefail

echo "# Owners with something overdue"
kpictl report --json | jq -r '[.kpis[] | select(.status == "overdue") | .owner] | unique | .[]'

echo "# At risk or off track, worst first: key, owner, progress vs expected"
kpictl report --json | jq -r '.kpis[]
  | select(.status == "at_risk" or .status == "off_track")
  | "\(.key)\t\(.owner)\t\((.progress // 0) * 100 | round)% vs \(if .expected_progress == null
      then "no pace (kept within bounds)" else "\(.expected_progress * 100 | round)%" end)"'

echo "# Stale KPIs and when a check-in was due"
kpictl report --json | jq -r '.kpis[] | select(.flags | index("stale")) | "\(.key)\t\(.next_checkin_due)"'

echo "# Forecast to miss: projected value and chance"
kpictl report --json | jq -r '.kpis[] | select(.forecast != null and .forecast.probability < 0.5)
  | "\(.key)\t\(.forecast.value_at_due | round)\t\(.forecast.probability * 100 | round)%"'
