"""The shipped editor schemas: exactly what the generator writes from the installed botocore, and every
pattern valid in ECMA-262 with the `u` flag (how JSON Schema tools and editors compile them)."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from toolkit.pipelines import shapes

pytestmark = pytest.mark.slow
SHIPPED = Path(str(resources.files("toolkit.pipelines").joinpath("schemas")))
GENERATED = sorted(f"{kind}.schema.json" for kind in (*shapes.REQUESTS, shapes.WORKFLOW))


def patterns(node) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "pattern" and isinstance(v, str)] + [
            p for k, v in node.items() if k != "pattern" for p in patterns(v)
        ]
    return [p for item in node for p in patterns(item)] if isinstance(node, list) else []


def test_the_shipped_schemas_are_what_the_generator_writes(tmp_path):
    shipped_from = json.loads((SHIPPED / "firehose.schema.json").read_text())["title"].rpartition(" ")[2].rstrip(")")
    if shipped_from != shapes.botocore_version():
        pytest.skip(f"shipped from botocore {shipped_from}, installed {shapes.botocore_version()}: "
                    "run python -m toolkit.pipelines.shapes and commit the result")  # fmt: skip
    written = shapes.write_shipped(tmp_path)
    assert sorted(p.name for p in written) == GENERATED
    for path in written:
        assert (SHIPPED / path.name).read_bytes() == path.read_bytes(), f"{path.name} differs from the generator's"


@pytest.mark.parametrize("name", sorted(p.name for p in SHIPPED.glob("*.schema.json")))
def test_every_shipped_pattern_is_portable_to_ecma_262(name):
    found = patterns(json.loads((SHIPPED / name).read_text()))
    assert all(shapes.ecma_portable(p) == p for p in found)
    assert not any("\\U" in p or "\\Z" in p or "\\A" in p for p in found)
    node = shutil.which("node")
    if node is None or not found:
        return
    script = "const ps = JSON.parse(require('fs').readFileSync(0, 'utf8')); for (const p of ps) new RegExp(p, 'u');"
    run = subprocess.run([node, "-e", script], input=json.dumps(found), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_astral_characters_pass_and_a_trailing_newline_fails_in_python_as_in_ecma_262():
    from toolkit.pipelines import kinds

    job = {"Name": "orders \U0001f600", "Role": "r", "Command": {"Name": "glueetl"}}
    assert kinds.check(job, "j.glue-job.json", "glue-job") == []
    for slow in (False, True):  # fastjsonschema, and jsonschema (always used with the visual-editor graph)
        bad = dict(job, Name="orders\n", **({"CodeGenConfigurationNodes": {}} if slow else {}))
        assert [(p.pointer, p.keyword) for p in kinds.check(bad, "j.glue-job.json", "glue-job")] == [
            ("/Name", "pattern")
        ]
