"""The catalog: real labs load; malformed manifests are refused naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checker.catalog import Catalog, load_lab
from checker.errors import ManifestError, UnknownLab
from checker.workspace import compose

from .conftest import FIXTURE_COURSE, ROOT

GOOD = (FIXTURE_COURSE / "labs" / "01-hello" / "lab.toml").read_text()


def test_the_course_has_labs_and_they_load():
    catalog = Catalog(ROOT)
    assert "crud" in catalog.ids()
    crud = catalog.get("crud")
    assert crud.order == 1 and crud.max_score > 0
    assert len(crud.bugs) >= 6, "lab 01 plants at least six bugs"


@pytest.mark.parametrize("lab", Catalog(ROOT).labs, ids=lambda lab: lab.id)
def test_every_lab_ships_its_parts(lab):
    assert lab.path.joinpath("README.md").is_file()
    assert lab.solution_path.is_dir(), f"solutions/{lab.dirname} is missing"
    assert lab.checks_path.is_dir(), f"{lab.checks_path} is missing"
    assert lab.notebook_path.is_file(), f"{lab.notebook_path} is missing"
    assert (ROOT / "docs" / "labs" / f"{lab.id}.md").is_file()
    assert (ROOT / "tests" / "scenarios" / lab.id).is_dir()
    for check in lab.checks:
        assert check.hint, f"check {check.id} has no hint"


@pytest.mark.parametrize("lab", Catalog(ROOT).labs, ids=lambda lab: lab.id)
def test_every_mutation_applies_exactly_once_to_the_solution(lab):
    for bug in lab.bugs:
        with compose(lab, mutations=bug.mutations) as ws:
            for m in bug.mutations:
                assert m.replace in (ws.path / m.file).read_text()


def _write(tmp_path: Path, text: str) -> Path:
    lab_dir = tmp_path / "labs" / "01-hello"
    lab_dir.mkdir(parents=True)
    (lab_dir / "lab.toml").write_text(text)
    return lab_dir


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (
            lambda t: t.replace("format_version = 1", "format_version = 99"),
            "format_version",
            "not supported",
        ),
        (
            lambda t: t.replace('title = "A fixture lab for the engine\'s own tests"\n', ""),
            "title",
            "required",
        ),
        (lambda t: t.replace("points = 2", 'points = "two"'), "checks[0].points", "integer"),
        (
            lambda t: t.replace('checks = ["greets"]', 'checks = ["nope"]'),
            "bugs[0].checks",
            "not a check",
        ),
        (
            lambda t: t.replace('services = ["postgres", "redis"]', 'services = ["mysql"]'),
            "services",
            "unknown service",
        ),
        (lambda t: t.replace('id = "hello"', 'id = "other"'), "id", "folder"),
        (
            lambda t: t + '\n[[checks]]\nid = "greets"\ntitle = "x"\npoints = 1\n',
            "checks[3].id",
            "twice",
        ),
    ],  # fmt: skip
)
def test_malformed_manifests_name_the_file_and_the_field(tmp_path, edit, field, words):
    lab_dir = _write(tmp_path, edit(GOOD))
    with pytest.raises(ManifestError) as info:
        load_lab(lab_dir)
    assert info.value.field == field
    assert str(lab_dir / "lab.toml") in info.value.message
    assert words in info.value.message


def test_invalid_toml_is_reported_with_its_file(tmp_path):
    lab_dir = _write(tmp_path, "format_version = = 1")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_lab(lab_dir)


def test_unknown_lab_lists_the_labs(tmp_path):
    shutil.copytree(FIXTURE_COURSE, tmp_path / "course")
    with pytest.raises(UnknownLab) as info:
        Catalog(tmp_path / "course").get("nosuch")
    assert "hello" in info.value.message


KIND_HINTS = """hints = ["Which status says 'here it is'?", "RFC 9110 section 15.3.1."]

[checks.kind_hints]
wrong-status = "The route answers, but with which status?"
no-greeting = ["The body is empty.", "Return a dict."]
"""


def test_a_check_maps_failure_kinds_to_their_own_hints(tmp_path):
    text = GOOD.replace(
        """hints = ["Which status says 'here it is'?", "RFC 9110 section 15.3.1."]\n""", KIND_HINTS
    )
    check = load_lab(_write(tmp_path, text)).check("greets")
    assert check.hint_for("wrong-status") == "The route answers, but with which status?"
    assert check.hints_for("no-greeting") == ("The body is empty.", "Return a dict.")
    # An unmapped kind, or none, gets the check's default hints.
    assert check.hint_for("") == check.hint_for("other") == "Which status says 'here it is'?"
    assert check.hints_for("") == check.hints


@pytest.mark.parametrize(
    ("bad", "words"),
    [('Wrong_Status = "x"', "kebab-case"), ('wrong-status = ""', "none empty")],
)
def test_kind_hints_are_validated(tmp_path, bad, words):
    text = GOOD.replace(
        """hints = ["Which status says 'here it is'?", "RFC 9110 section 15.3.1."]\n""",
        f"hints = []\n\n[checks.kind_hints]\n{bad}\n",
    )
    with pytest.raises(ManifestError) as info:
        load_lab(_write(tmp_path, text))
    assert info.value.field.startswith("checks[0].kind_hints.")
    assert words in info.value.message
