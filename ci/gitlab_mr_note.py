"""Post a plan summary to a GitLab merge request as one note per environment, edited in place.

Used by ci/gitlab-ci.yml's plan jobs: `python3 ci/gitlab_mr_note.py ENV bundle-ENV/summary.md`. A hidden
marker (`<!-- toolkit-plan:ENV -->`) finds the note again, so the three environments' plan jobs never
overwrite each other. Needs GITLAB_API_TOKEN (a project access token with the `api` scope: CI_JOB_TOKEN
cannot write notes); without it the job log keeps the summary and this says so. Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request


def _call(method: str, url: str, token: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("PRIVATE-TOKEN", token)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def main(environment: str, summary_path: str) -> int:
    token = os.environ.get("GITLAB_API_TOKEN")
    if not token:
        print("GITLAB_API_TOKEN is not set: the plan summary stays in the job log only", file=sys.stderr)
        return 0
    api = os.environ["CI_API_V4_URL"]
    project = urllib.parse.quote(os.environ["CI_PROJECT_ID"], safe="")
    notes = f"{api}/projects/{project}/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
    marker = f"<!-- toolkit-plan:{environment} -->"
    with open(summary_path, encoding="utf-8") as handle:
        body = f"{marker}\n{handle.read()}"
    page = 1
    while True:
        found = _call("GET", f"{notes}?per_page=100&page={page}", token)
        mine = next((n for n in found if str(n.get("body", "")).startswith(marker)), None)
        if mine is not None:
            _call("PUT", f"{notes}/{mine['id']}", token, {"body": body})
            return 0
        if len(found) < 100:
            break
        page += 1
    _call("POST", notes, token, {"body": body})
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
