"""The AWS provider from a filesystem mirror (`TOOLKIT_PROVIDER_MIRROR`) instead of the registry, for
machines that cannot reach it: a Terraform CLI configuration naming the mirror, and what to say when the
mirror lacks the version a stack asks for."""

from __future__ import annotations

from pathlib import Path

PROVIDER_MIRROR_ENV_VAR = "TOOLKIT_PROVIDER_MIRROR"
NO_MATCHING_RELEASE = "no available releases match the given constraints"


def mirrored_providers(mirror: Path) -> list[str]:
    """`registry.terraform.io/NAMESPACE/TYPE` of every provider the mirror holds."""
    return sorted(
        "/".join(p.relative_to(mirror).parts) for p in mirror.glob("*/*/*") if p.is_dir() and not p.name.startswith(".")
    )


def mirror_config(mirror: Path) -> str:
    """Providers the mirror holds come only from it (a registry that cannot be reached is never asked
    for them); every other provider from the registry."""
    held = ", ".join(f'"{name}"' for name in mirrored_providers(mirror))
    return (
        "# Written by toolkit: providers from the mirror named by TOOLKIT_PROVIDER_MIRROR, others from the registry.\n"
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = [{held}]\n  }}\n'
        f"  direct {{\n    exclude = [{held}]\n  }}\n"
        "}\n"
    )


def write_mirror_config(path: Path, mirror: Path) -> Path:
    text = mirror_config(mirror.resolve())
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def available_versions(mirror: Path, provider: str = "hashicorp/aws") -> list[str]:
    """The versions of a provider the mirror holds (its packed or unpacked layout)."""
    folder = mirror / "registry.terraform.io" / provider
    if not folder.is_dir():
        return []
    names = {p.name.split("_")[1] if p.suffix == ".zip" else p.name for p in folder.iterdir()}
    return sorted(n for n in names if n[:1].isdigit())


def mismatch_hint(mirror: str | None) -> str:
    """What to do when `init` finds no provider version the stack accepts."""
    if not mirror:
        return (
            "the registry could not be reached or has no matching version: name a filesystem mirror that "
            f"has one with {PROVIDER_MIRROR_ENV_VAR}=/path/to/mirror"
        )
    held = ", ".join(available_versions(Path(mirror))) or "none"
    return (
        f"the mirror {mirror} ({PROVIDER_MIRROR_ENV_VAR}) holds hashicorp/aws {held}, which the stack's "
        "required_providers constraint does not accept: add the version it asks for to the mirror, or relax "
        "the constraint in a copy of the stacks (never in the shipped ones)"
    )
