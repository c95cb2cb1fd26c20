#!/bin/sh
# The GitHub runner's job-completed hook (ACTIONS_RUNNER_HOOK_JOB_COMPLETED, set in the runner's
# .env by install-github.sh). The runner runs it with its path as $0, as the runner user, after
# every job; it records the job's end time in the state file beside it (cml-state), which
# `cml runner gc --idle-timeout` reads. It never fails the job.
state=${0%/*}/cml-state
[ -f "$state" ] || exit 0
count=$(sed -n 's/^jobs_completed=//p' "$state" | tail -n 1)
case $count in '' | *[!0-9]*) count=0 ;; esac
tmp=$state.tmp.$$
if {
    grep -v -e '^last_job_completed_at=' -e '^jobs_completed=' "$state"
    printf 'last_job_completed_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'jobs_completed=%s\n' "$((count + 1))"
} >"$tmp"; then
    mv -f "$tmp" "$state"
fi
rm -f "$tmp"
exit 0
