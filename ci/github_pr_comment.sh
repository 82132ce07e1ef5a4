#!/usr/bin/env bash
# Post a plan summary to a GitHub pull request as one comment per environment, edited in place.
# Usage (plan.yml): ci/github_pr_comment.sh ENV SUMMARY_FILE, with GH_TOKEN, REPO and PR_NUMBER set.
# A hidden marker finds the comment again, so the matrix jobs (one per environment) never overwrite each
# other's plans, as `gh pr comment --edit-last` would.
set -euo pipefail
env_name=$1
summary=$2
export MARKER="<!-- toolkit-plan:${env_name} -->"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
{ echo "$MARKER"; cat "$summary"; } > "$body"
id=$(gh api --paginate "repos/${REPO}/issues/${PR_NUMBER}/comments" \
  --jq '.[] | select(.user.login == "github-actions[bot]" and (.body | startswith(env.MARKER))) | .id' | head -n 1)
if [ -n "$id" ]; then
  gh api --method PATCH "repos/${REPO}/issues/comments/${id}" -F "body=@${body}" > /dev/null
else
  gh api --method POST "repos/${REPO}/issues/${PR_NUMBER}/comments" -F "body=@${body}" > /dev/null
fi
