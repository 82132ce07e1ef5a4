"""TOOLKIT_PROVIDER_MIRROR: the providers a mirror holds come only from it, and a stack asking for a version
the mirror lacks is told which versions it holds and what to do."""

from pathlib import Path

from toolkit.terraform.mirror import available_versions, mirror_config, mismatch_hint, write_mirror_config


def mirror(root: Path) -> Path:
    for version in ("5.100.0", "5.99.1"):
        (root / "registry.terraform.io" / "hashicorp" / "aws" / version / "linux_amd64").mkdir(parents=True)
    (root / "registry.terraform.io" / "hashicorp" / "random").mkdir(parents=True)
    (
        root / "registry.terraform.io" / "hashicorp" / "random" / "terraform-provider-random_3.6.0_linux_amd64.zip"
    ).touch()
    return root


def test_the_mirror_is_the_only_source_of_what_it_holds(tmp_path):
    root = mirror(tmp_path / "mirror")
    text = mirror_config(root)
    held = '["registry.terraform.io/hashicorp/aws", "registry.terraform.io/hashicorp/random"]'
    assert f"include = {held}" in text and f"exclude = {held}" in text
    assert f'path    = "{root}"' in text
    path = write_mirror_config(tmp_path / "state" / "terraformrc", root)
    assert path.read_text() == text
    assert available_versions(root) == ["5.100.0", "5.99.1"]
    assert available_versions(root, "hashicorp/random") == ["3.6.0"]


def test_a_version_the_mirror_lacks_names_what_it_holds_and_the_way_out(tmp_path):
    root = mirror(tmp_path / "mirror")
    hint = mismatch_hint(str(root))
    assert "holds hashicorp/aws 5.100.0, 5.99.1" in hint and "relax the constraint in a copy" in hint
    assert "TOOLKIT_PROVIDER_MIRROR" in mismatch_hint(None)
