"""The install files agree: pyproject is the single dependency list, pinned by constraints.txt,
and environment.yml installs the same package with the same pins."""

import re
import tomllib

import yaml

from conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_pinned():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {_name(line): line for line in (REPO / "constraints.txt").read_text().splitlines()
            if "==" in line}
    wanted = project["dependencies"] + [d for extra in project["optional-dependencies"].values()
                                        for d in extra]
    missing = [d for d in wanted if _name(d) not in pins]
    assert missing == [], f"add pins to constraints.txt for {missing}"
    assert "ipykernel" in {_name(d) for d in project["dependencies"]}


def test_environment_yml_installs_the_pyproject_with_the_pins():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = env["dependencies"]
    assert any(str(d).startswith("python=3.11") for d in deps)
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-c constraints.txt" in pip
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    editable = next(p for p in pip if p.startswith("-e ."))
    for extra in extras:
        assert extra in editable, f"environment.yml does not install the [{extra}] extra"
