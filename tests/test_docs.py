"""The docs site and the Docker infra.

The site must build with ``--strict`` (every broken link or missing page fails), the lab
pages must carry what the labs' own files say (checks from lab.toml, the task from
README.md), a marker naming no lab must fail the build, and infra/docker-compose.yml
must declare what docs/services.md promises. One real build is shared by the module.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
HOOK = REPO / "docs" / "hooks" / "labs.py"
CRUD = REPO / "labs" / "01-crud"
COMPOSE = REPO / "infra" / "docker-compose.yml"


def mkdocs_build(config_dir: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",  # material's end-of-life banner
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ next to the hook in docs/
    }
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir),
         "--config-file", str(config_dir / "mkdocs.yml")],
        cwd=config_dir, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


class _Text(HTMLParser):
    """The visible text of a page's article, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def page_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    start, end = raw.find("<article"), raw.rfind("</article>")
    parser = _Text()
    parser.feed(raw[start:end] if start != -1 and end != -1 else raw)
    return re.sub(r"\s+", " ", html.unescape(" ".join(parser.parts)))


def plain(markdown: str) -> str:
    """What a short Markdown title reads like once rendered (code spans unwrapped)."""
    return re.sub(r"\s+", " ", markdown.replace("`", "")).strip()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    res = mkdocs_build(REPO, out)
    assert res.returncode == 0, f"mkdocs build --strict failed:\n{res.stdout}\n{res.stderr}"
    return out


@pytest.fixture(scope="module")
def crud() -> dict:
    manifest = CRUD / "lab.toml"
    assert manifest.is_file(), f"{manifest.relative_to(REPO)} is missing"
    return tomllib.loads(manifest.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the real site


def test_site_builds_with_every_page(site: Path) -> None:
    for page in ("index", "labs/crud/index", "commands/index", "services/index"):
        assert (site / f"{page}.html").is_file(), f"{page}.html was not built"
    assert (site / "authoring" / "index.html").is_file()
    # The hook is the build's code, not content.
    assert not list(site.rglob("*.py")) and not list(site.rglob("*.pyc"))


def test_crud_page_lists_every_check(site: Path, crud: dict) -> None:
    text = page_text(site / "labs" / "crud" / "index.html")
    assert "01 · A catalog API that behaves" in text
    for check in crud["checks"]:
        assert plain(check["title"]) in text, f"check {check['id']!r} missing from the page"
    total = sum(c["points"] for c in crud["checks"])
    bonus = sum(c["points"] for c in crud["checks"] if c.get("bonus", False))
    assert f"{total} points, {bonus or 'none'} of them bonus" in text
    for concept in crud.get("concepts", []):
        assert concept in text


def test_crud_page_includes_the_readme(site: Path) -> None:
    readme = (CRUD / "README.md").read_text(encoding="utf-8")
    text = page_text(site / "labs" / "crud" / "index.html")
    samples = []
    in_fence = False
    for n, line in enumerate(readme.splitlines()):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        line = re.sub(r"^\s*(?:[-*+]|\d+\.|>)\s+", "", line).strip()
        if in_fence or n == 0 or len(line) < 25:
            continue
        if line.startswith("#"):
            line = line.lstrip("#").strip()
        if not re.search(r"[`*_\[\]<>|\\&#!]", line):
            samples.append(line)
    assert samples, "README.md has no plain sentence to look for"
    for sample in samples[:8]:
        assert sample in text, f"README text missing from the crud page: {sample!r}"


def test_home_page_lists_every_lab(site: Path) -> None:
    text = page_text(site / "index.html")
    for manifest in sorted(REPO.glob("labs/*/lab.toml")):
        lab = tomllib.loads(manifest.read_text(encoding="utf-8"))
        assert plain(lab["title"]) in text, f"{manifest.parent.name} missing from the home page"
    raw = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="labs/crud/"' in raw, "the crud lab is not linked from the home page"


# ------------------------------------------------------------------ failures name their cause


def _docs_tree(root: Path, page: str) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text(page, encoding="utf-8")
    (root / "mkdocs.yml").write_text(
        f"site_name: Trial\ndocs_dir: docs\nhooks:\n  - {HOOK.as_posix()}\n", encoding="utf-8"
    )
    return root


def test_unknown_lab_fails_the_build(tmp_path: Path) -> None:
    root = _docs_tree(tmp_path / "tree", "# Trial\n\n<!-- lab:checks nosuchlab -->\n")
    res = mkdocs_build(root, tmp_path / "site")
    output = res.stdout + res.stderr
    assert res.returncode != 0, output
    assert "nosuchlab" in output and "docs/index.md" in output, output


def test_malformed_manifest_fails_the_build_naming_it(tmp_path: Path) -> None:
    root = _docs_tree(tmp_path / "tree", "# Trial\n\n<!-- lab:index -->\n")
    bad = root / "labs" / "01-broken" / "lab.toml"
    bad.parent.mkdir(parents=True)
    bad.write_text('format_version = 1\nid = "broken\n', encoding="utf-8")
    res = mkdocs_build(root, tmp_path / "site")
    output = res.stdout + res.stderr
    assert res.returncode != 0, output
    assert "labs/01-broken/lab.toml" in output, output


# ------------------------------------------------------------------ infra/docker-compose.yml


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _words(value: str | list[str]) -> str:
    return value if isinstance(value, str) else " ".join(value)


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_compose_declares_the_three_services(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "jupyterlab"} <= services.keys()

    pg = services["postgres"]
    assert pg["image"] == "postgres:18"
    command = _words(pg["command"])
    assert "shared_preload_libraries=pg_stat_statements" in command
    assert "pg_stat_statements.track=all" in command
    assert _env(pg)["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert "pg_isready" in _words(pg["healthcheck"]["test"])

    redis = services["redis"]
    assert redis["image"] == "redis:7"
    assert "redis-cli ping" in _words(redis["healthcheck"]["test"])

    jupyter = services["jupyterlab"]
    assert jupyter["image"].startswith("python:3.11")
    assert "jupyter lab --ip 0.0.0.0 --no-browser" in _words(jupyter["command"])
    assert "notebooks/" in _words(jupyter["command"])
    env = _env(jupyter)
    assert env["LAB_DATABASE_URL"].startswith("postgresql://postgres@postgres:5432/")
    assert env["LAB_REDIS_URL"].startswith("redis://redis:6379/")


def test_compose_binds_every_port_to_localhost(compose: dict) -> None:
    expected = {"postgres": "5432", "redis": "6379", "jupyterlab": "8888"}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port} is not local"
    for name, port in expected.items():
        published = [str(p) for p in compose["services"][name]["ports"]]
        assert f"127.0.0.1:{port}:{port}" in published, f"{name} does not publish {port}"
