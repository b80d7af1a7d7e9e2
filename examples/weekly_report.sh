#!/usr/bin/env bash
# Mail last week's digest and the portfolio as Markdown; exit 5 (and say so) when anything is
# overdue or stale, so cron's own mail also tells you. Crontab line (Mondays 07:00):
#   0 7 * * 1  KPICTL_DB=$HOME/team.db KPICTL_TZ=Europe/Berlin /path/to/weekly_report.sh team@example.com
# MAILER is any sendmail-compatible command reading a whole message on stdin (default sendmail -t).
# REPORT_FORMAT=html adds an HTML version (the digest, then the portfolio with charts, all
# inline) as a multipart/alternative message; mail clients without HTML show the Markdown.
set -uo pipefail
to="${1:?usage: weekly_report.sh ADDRESS}"
mailer="${MAILER:-sendmail -t}"
format="${REPORT_FORMAT:-md}"
body="$(mktemp)" errors="$(mktemp)" page="$(mktemp)"
trap 'rm -f "$body" "$errors" "$page"' EXIT
case "$format" in md|html) ;; *) echo "weekly_report.sh: REPORT_FORMAT must be md or html" >&2; exit 2;; esac

# --revised: last week as known when the mail goes out, with check-ins back-filled since
# (without it, the digest shows exactly what was known at the end of the week).
kpictl --no-color report --week last --revised --format md > "$body" 2> "$errors" || { cat "$errors" >&2; exit 1; }
echo >> "$body"
kpictl --no-color report --format md --fail-on overdue,stale >> "$body" 2> "$errors"
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
  cat "$errors" >&2   # a real failure (database unreachable, …): no mail, cron reports it
  exit "$status"
fi
if [ "$format" = html ]; then
  kpictl report --week last --revised --format html > "$page" 2> "$errors" || { cat "$errors" >&2; exit 1; }
fi

subject="KPI report, week of $(date -d 'last monday' +%F 2>/dev/null || date +%F)"
[ "$status" -eq 5 ] && subject="$subject — needs attention"
{
  printf 'To: %s\nSubject: %s\nMIME-Version: 1.0\n' "$to" "$subject"
  if [ "$format" = html ]; then
    boundary="kpictl-$(date +%s)-$$"
    printf 'Content-Type: multipart/alternative; boundary="%s"\n\n' "$boundary"
    printf -- '--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n' "$boundary"
    cat "$body"
    printf -- '\n--%s\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n' "$boundary"
    cat "$page"
    printf -- '\n--%s--\n' "$boundary"
  else
    printf 'Content-Type: text/markdown; charset=utf-8\n\n'
    cat "$body"
  fi
} | $mailer
exit "$status"
