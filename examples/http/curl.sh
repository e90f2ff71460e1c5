#!/usr/bin/env bash
# The djps HTTP API from a shell, with plain curl: what a Go or Python service
# does over HTTP. Run it against `npx djps serve`:
#
#   DJPS_URL=http://127.0.0.1:8080 DJPS_KEY=djps_... examples/http/curl.sh
#
# Every call fails the script on an HTTP error (curl --fail-with-body).
set -euo pipefail

url="${DJPS_URL:-http://127.0.0.1:8080}"
auth=(-H "Authorization: Bearer ${DJPS_KEY:?set DJPS_KEY to a key from 'djps keys create'}")
json=(-H "Content-Type: application/json")
curl=(curl --silent --show-error --fail-with-body)
idem="welcome-$(date +%s%N)" # a fresh idempotency key on every run

echo "# health (no key needed)"
"${curl[@]}" "$url/health"; echo

echo "# enqueue a job, idempotently (due in an hour, so that it can be cancelled below)"
created=$("${curl[@]}" "${auth[@]}" "${json[@]}" -H "Idempotency-Key: $idem" \
  -d '{"type":"send_email","payload":{"to":"a@example.com"},"queue":"emails","priority":10,"delayMs":3600000}' \
  "$url/jobs")
echo "$created"
id=$(printf '%s' "$created" | sed -E 's/.*"job":\{"id":"([^"]+)".*/\1/')

echo "# the same key again: the same job, \"created\": false"
"${curl[@]}" "${auth[@]}" "${json[@]}" -H "Idempotency-Key: $idem" \
  -d '{"type":"send_email","payload":{"to":"a@example.com"},"queue":"emails"}' "$url/jobs" | grep -q '"created":false'
echo "ok"

echo "# many at once"
"${curl[@]}" "${auth[@]}" "${json[@]}" \
  -d '{"jobs":[{"type":"resize","payload":{"n":1},"queue":"images"},{"type":"resize","payload":{"n":2},"queue":"images","delayMs":60000}]}' \
  "$url/jobs/batch"; echo

echo "# one job, then a page of jobs"
"${curl[@]}" "${auth[@]}" "$url/jobs/$id"; echo
"${curl[@]}" "${auth[@]}" "$url/jobs?queue=emails&status=queued&limit=10"; echo

echo "# cancel it, then retry it"
"${curl[@]}" "${auth[@]}" -X POST "$url/jobs/$id/cancel"; echo
"${curl[@]}" "${auth[@]}" -X POST "$url/jobs/$id/retry"; echo

echo "# pause and resume a queue"
"${curl[@]}" "${auth[@]}" -X POST "$url/queues/emails/pause"; echo
"${curl[@]}" "${auth[@]}" "$url/queues"; echo
"${curl[@]}" "${auth[@]}" -X POST "$url/queues/emails/resume"; echo

echo "# dead jobs: list, retry and purge by filter"
"${curl[@]}" "${auth[@]}" "$url/dead?queue=emails"; echo
"${curl[@]}" "${auth[@]}" "${json[@]}" -d '{"queue":"emails","type":"send_email"}' "$url/dead/retry"; echo
"${curl[@]}" "${auth[@]}" "${json[@]}" -d '{"queue":"emails","finishedBefore":"2020-01-01T00:00:00Z"}' "$url/dead/purge"; echo

echo "# stats, schedules, metrics"
"${curl[@]}" "${auth[@]}" "$url/stats"; echo
"${curl[@]}" "${auth[@]}" "$url/schedules"; echo
"${curl[@]}" "${auth[@]}" "$url/metrics" | head -n 3

echo "# an error: one JSON shape, with the field"
curl --silent --show-error --write-out '\nstatus %{http_code}\n' "${auth[@]}" "${json[@]}" \
  -d '{"type":"t","payload":1,"priority":"high"}' "$url/jobs"
