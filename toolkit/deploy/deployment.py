"""What an environment runs: the deployment record written after each complete deploy, and what this
checkout would deploy to it (code only: stacks, migrations, pipeline fingerprints; values never count).
`promote-check`, `env status` and plan bundles compare the two."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from toolkit.adapters.git import current_commit
from toolkit.deploy.context import Context
from toolkit.deploy.injected import injected_folders
from toolkit.deploy.records import deployment_store
from toolkit.deploy.rendering import deploys_pipelines
from toolkit.errors import ToolkitError
from toolkit.migrations.source import LoadedMigrations
from toolkit.pipelines.fingerprints import code_fingerprint
from toolkit.pipelines.kinds import RENDER_FOLDERS
from toolkit.pipelines.rendering import RenderResult, diff_lines
from toolkit.pipelines.validate import catalog
from toolkit.project.model import Environment
from toolkit.state.deployments import FORMAT, Deployment, migrations_digest
from toolkit.support.paths import shown
from toolkit.terraform.sources import external_inputs, tree_sha256

ASK_GIT = "\0ask git"  # record_database's default: no commit known yet


def from_repository(
    ctx: Context, env: Environment, loaded: LoadedMigrations, *, pipelines: dict[str, str] | None = None
) -> Deployment:
    """What `env up` of this checkout deploys to `env` (code only: no values). `pipelines`: the code
    fingerprints a render of this run just made (`<kind folder>/<name>` -> fingerprint), which the
    pipelines' catalog would only compute again."""
    project = ctx.project
    folders = injected_folders(ctx)
    stacks = {
        name: {
            "directory": shown(directory, project.root),
            "sha256": tree_sha256(directory),
            "external": external_inputs(directory, project.root, folders),
        }
        for name, directory in env.stacks.items()
    }
    runs = [m for m in loaded.versioned if m.runs_in(env.name)]
    migrations = {str(m.file.version): m.sha256 for m in runs}
    if pipelines is None:
        pipelines = {
            f"{RENDER_FOLDERS[p.kind]}/{p.name}": code_fingerprint(p.name, p.kind, p.data, project.pipelines_dir)
            for p in catalog(project).pipelines
        }
    return Deployment(
        env.name,
        stacks,
        migrations,
        pipelines,
        checksums={str(m.file.version): m.checksum for m in runs},
        migrations_sha256=migrations_digest(migrations),
        repeatables={m.script: m.sha256 for m in loaded.repeatable if m.runs_in(env.name)},
        format=FORMAT,
    )


def applied_identities(
    loaded: LoadedMigrations, applied: dict[str, int], just_applied: Collection[str], previous: Deployment | None
) -> dict[str, str]:
    """version -> SHA-256 of the bytes each applied migration ran from. A migration this run applied: its
    file as read (and checked) now. One applied before: what the previous record says, as long as the
    history row still has the checksum it had then (a `db repair` realigning it means the file now is what
    counts); else this checkout's file if its checksum matches the row; else unknown (which never equals a
    digest, so promote-check reports it)."""
    by_version = {str(m.file.version): m for m in loaded.versioned}
    carried = previous if previous is not None and previous.current else None
    found = {}
    for version, checksum in applied.items():
        source = by_version.get(version)
        if source is not None and source.script in just_applied:
            found[version] = source.sha256
        elif carried is not None and version in carried.migrations and carried.checksums.get(version) == checksum:
            found[version] = carried.migrations[version]
        elif source is not None and source.checksum == checksum:
            found[version] = source.sha256
        else:
            found[version] = f"unknown (applied with checksum {checksum}, no file of it here)"
    return found


def repeatable_identities(
    loaded: LoadedMigrations, ran: dict[str, int], just_applied: Collection[str], previous: Deployment | None
) -> dict[str, str]:
    """script -> SHA-256 of the bytes each repeatable migration last ran from, as for versioned ones: run now,
    its file as read now; else the previous record's while the history's checksum of its last run is the
    one recorded then (an edit Flyway's checksum cannot see runs nothing, and is not taken for what ran);
    else this checkout's file, which a complete deploy has just brought up to date."""
    files = {m.script: m for m in loaded.repeatable}
    carried = previous if previous is not None and previous.current else None
    found = {}
    for script, checksum in ran.items():
        source = files.get(script)
        if source is not None and script in just_applied:
            found[script] = source.sha256
        elif (
            carried is not None
            and carried.repeatable_checksums.get(script) == checksum
            and script in carried.repeatables
        ):
            found[script] = carried.repeatables[script]
        elif source is not None:
            found[script] = source.sha256
        else:
            found[script] = f"unknown (ran with checksum {checksum}, no file of it here)"
    return found


def from_repository_all(ctx: Context, env: Environment, loaded: dict[str, LoadedMigrations]) -> Deployment:
    """`from_repository` of every database (`loaded`: name -> its files, in order), as one record."""
    return Deployment.with_databases({name: from_repository(ctx, env, files) for name, files in loaded.items()})


def record_deployed(
    ctx: Context,
    env: Environment,
    loaded: dict[str, LoadedMigrations],
    runs: dict,
    *,
    rendered: RenderResult | None = None,
) -> Deployment:
    """After a complete deploy, store what `env` runs now: `record_database` of each database (`runs`: name ->
    its MigrationRun, in order), as one record; `rendered`: this run's render of the pipelines, if any."""
    previous = _readable(deployment_store(ctx, env), env.name)
    commit = current_commit(ctx.project.root)  # once per record, not once per database
    pipelines = None if rendered is None else {f.file.removesuffix(".json"): f.fingerprint for f in rendered.files}
    per_database = {}
    for name, run in runs.items():
        just_applied = {step.script for step in run.result.applied}
        before = previous.database(name, first=ctx.project.databases[0].name) if previous is not None else None
        per_database[name] = record_database(
            ctx, env, loaded[name], run.applied, just_applied, run.repeatables, previous=before,
            commit=commit, pipelines=pipelines,
        )  # fmt: skip
    deployment = Deployment.with_databases(per_database)
    deployment_store(ctx, env).put(deployment)
    return deployment


def record_database(
    ctx: Context,
    env: Environment,
    loaded: LoadedMigrations,
    applied: dict[str, int],
    just_applied: Collection[str] = (),
    repeatables: dict[str, int] | None = None,
    *,
    previous: Deployment | None,
    commit: str | None = ASK_GIT,
    pipelines: dict[str, str] | None = None,
) -> Deployment:
    """What `env` runs now with one database: the repository's stacks and pipelines, the migrations applied
    (`applied`: version -> checksum in the history table; `just_applied`: the scripts this run applied) by
    the SHA-256 of their bytes, and the rendered definitions (kept beside the state, as sensitive as it;
    secrets never reach them). `commit`: the checkout's commit (None: not a git checkout), asked of git by default."""
    folder = ctx.paths.rendered(env.name)
    rendered = (
        {str(p.relative_to(folder).with_suffix("")): p.read_text(encoding="utf-8") for p in folder.glob("*/*.json")}
        if deploys_pipelines(ctx, env) and folder.is_dir()
        else {}
    )
    repo = from_repository(ctx, env, loaded, pipelines=pipelines)
    migrations = applied_identities(loaded, applied, just_applied, previous)
    ran = dict(repeatables or {})
    return Deployment(
        env.name,
        repo.stacks,
        migrations,
        repo.pipelines,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        git_commit=current_commit(ctx.project.root) if commit == ASK_GIT else commit,
        rendered=rendered,
        checksums=dict(applied),
        migrations_sha256=migrations_digest(migrations),
        repeatables=repeatable_identities(loaded, ran, just_applied, previous),
        repeatable_checksums=ran,
        format=FORMAT,
    )


def _readable(store, name: str) -> Deployment | None:
    """The previous record, or None when it cannot be read (it is replaced by the one written now)."""
    try:
        return store.get(name)
    except ToolkitError:
        return None


def pipeline_changes(ctx: Context, env: Environment, rendered: RenderResult) -> dict[str, dict]:
    """Each pipeline that changes against what the environment runs: new, removed, code or only values
    changed, with a masked diff of the rendered definitions."""
    previous = deployment_store(ctx, env).get(env.name)
    before_text = previous.rendered if previous else {}
    before_code = previous.pipelines if previous else {}
    changes = {}
    for f in rendered.files:
        key = f.file.removesuffix(".json")
        text = (rendered.out_dir / f.file).read_text(encoding="utf-8")
        if before_text.get(key) == text:
            continue
        if key not in before_text:
            state = "new"
        else:
            state = "code changed" if before_code.get(key) != f.fingerprint else "values changed"
        changes[key] = {
            "state": state,
            "fingerprint_before": before_code.get(key),
            "fingerprint_after": f.fingerprint,
            "diff": list(diff_lines(before_text.get(key, ""), text, f.file)),
        }
    for key in sorted(set(before_text) - {f.file.removesuffix(".json") for f in rendered.files}):
        changes[key] = {
            "state": "removed",
            "fingerprint_before": before_code.get(key),
            "fingerprint_after": None,
            "diff": [],
        }
    return changes
