#!/usr/bin/env bash
# Mail last week's digest and the portfolio as Markdown; exit 5 (and say so) when anything is
# overdue or stale, so cron's own mail also tells you. Crontab line (Mondays 07:00):
#   0 7 * * 1  KPICTL_DB=$HOME/team.db KPICTL_TZ=Europe/Berlin /path/to/weekly_report.sh team@example.com
# MAILER is any sendmail-compatible command reading a whole message on stdin (default sendmail -t).
set -uo pipefail
to="${1:?usage: weekly_report.sh ADDRESS}"
mailer="${MAILER:-sendmail -t}"
body="$(mktemp)" errors="$(mktemp)"
trap 'rm -f "$body" "$errors"' EXIT

kpictl --no-color report --week last --format md > "$body" 2> "$errors" || { cat "$errors" >&2; exit 1; }
echo >> "$body"
kpictl --no-color report --format md --fail-on overdue,stale >> "$body" 2> "$errors"
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
  cat "$errors" >&2   # a real failure (database unreachable, …): no mail, cron reports it
  exit "$status"
fi

subject="KPI report, week of $(date -d 'last monday' +%F 2>/dev/null || date +%F)"
[ "$status" -eq 5 ] && subject="$subject — needs attention"
{
  printf 'To: %s\nSubject: %s\nContent-Type: text/markdown; charset=utf-8\n\n' "$to" "$subject"
  cat "$body"
} | $mailer
exit "$status"
