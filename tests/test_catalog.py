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
BUGS = (FIXTURE_COURSE / "solutions" / "01-hello" / "bugs.toml").read_text()


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


def _write(tmp_path: Path, text: str, bugs: str | None = None) -> Path:
    lab_dir = tmp_path / "labs" / "01-hello"
    lab_dir.mkdir(parents=True)
    (lab_dir / "lab.toml").write_text(text)
    if bugs is not None:
        solution = tmp_path / "solutions" / "01-hello"
        solution.mkdir(parents=True)
        (solution / "bugs.toml").write_text(bugs)
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
            lambda t: t.replace("points = 2", 'points = 2\ntimed = "yes"'),
            "checks[0].timed",
            "true or false",
        ),  # fmt: skip
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


def test_a_check_is_timed_only_when_its_manifest_says_so(tmp_path):
    lab = load_lab(_write(tmp_path, GOOD.replace("points = 2", "points = 2\ntimed = true")))
    assert [c.timed for c in lab.checks] == [True, False, False]


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
    [('Wrong_Status = "x"', "kebab-case"), ('wrong-status = ""', "must not be empty")],
)
def test_kind_hints_are_validated(tmp_path, bad, words):
    text = GOOD.replace(
        """hints = ["Which status says 'here it is'?", "RFC 9110 section 15.3.1."]\n""",
        f"hints = []\n\n[checks.kind_hints]\n{bad}\n",
    )
    with pytest.raises(ManifestError) as info:
        load_lab(_write(tmp_path, text))
    assert info.value.field.startswith("checks[0].kind_hints")
    assert words in info.value.message


def _refused(lab_dir: Path) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_lab(lab_dir)
    return info.value


def test_an_unknown_key_is_refused_with_its_line_and_a_guess(tmp_path):
    text = GOOD.replace('hint = "Commit the session."', 'hnts = "Commit the session."')
    err = _refused(_write(tmp_path, text))
    line = text.splitlines().index('hnts = "Commit the session."') + 1
    assert err.field == "checks[1].hnts"
    assert f"lab.toml:{line}," in err.message
    assert "Did you mean 'hints'?" in err.message


def test_a_misspelt_top_level_key_is_refused_too(tmp_path):
    err = _refused(_write(tmp_path, GOOD.replace("minutes = 1", "minuts = 1")))
    assert err.field == "minuts" and "Did you mean 'minutes'?" in err.message


def test_planted_bugs_in_the_learners_folder_are_refused(tmp_path):
    err = _refused(_write(tmp_path, GOOD + "\n" + BUGS.split("format_version = 1", 1)[1]))
    assert err.field == "bugs" and "solutions/NN-id/bugs.toml" in err.message


def test_bugs_come_from_the_solutions_bugs_toml(tmp_path):
    assert load_lab(_write(tmp_path / "a", GOOD)).bugs == ()  # a student edition
    lab = load_lab(_write(tmp_path / "b", GOOD, BUGS))
    assert [b.id for b in lab.bugs] == ["wrong-status"]
    assert lab.expected_starter_failures() == {"greets"}


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (
            lambda t: t.replace('checks = ["greets"]', 'checks = ["nope"]'),
            "bugs[0].checks",
            "not a check",
        ),
        (
            lambda t: t.replace('checks = ["greets"]', "checks = []"),
            "bugs[0].checks",
            "must name the checks",
        ),
        (
            lambda t: t.replace('replace = "status_code=418"', 'replace = "x", fle = "y"'),
            "bugs[0].mutations[0].fle",
            "not a known key",
        ),
        (lambda t: t.replace("summary", "sumary"), "bugs[0].sumary", "Did you mean 'summary'"),
    ],  # fmt: skip
)
def test_malformed_bugs_files_name_the_file_and_the_field(tmp_path, edit, field, words):
    err = _refused(_write(tmp_path, GOOD, edit(BUGS)))
    assert err.field == field and words in err.message
    assert str(tmp_path / "solutions" / "01-hello" / "bugs.toml") in err.message


def test_the_solution_overlay_leaves_bugs_toml_out_of_the_workspace():
    lab = Catalog(ROOT).get("crud")
    assert lab.bugs_path.is_file()
    with compose(lab) as ws:
        assert not (ws.path / "bugs.toml").exists()
    assert lab.bugs_path not in lab.solution_files()


def test_dev_check_finds_nothing_wrong_in_the_course():
    from checker.authoring.devcheck import dev_check

    reports = dev_check(ROOT)
    assert [r.lab for r in reports] == Catalog(ROOT).ids()
    assert {r.lab: r.problems for r in reports if r.problems} == {}


def test_env_reaches_the_service_its_worker_and_the_checks(tmp_path):
    from checker.session import Session

    text = GOOD + '\n[env]\nRETRY_SCHEDULE = "[0.2, 0.5]"\nPROVIDER_SECRET = "whsec_x"\n'
    lab = load_lab(_write(tmp_path, text))
    assert dict(lab.env) == {"RETRY_SCHEDULE": "[0.2, 0.5]", "PROVIDER_SECRET": "whsec_x"}
    session = Session(lab, lab.path, state=tmp_path, run_dir=tmp_path / "run", zygote=False)
    for env in (session.service_env, session.checks_env):
        assert env["RETRY_SCHEDULE"] == "[0.2, 0.5]" and env["PROVIDER_SECRET"] == "whsec_x"


@pytest.mark.parametrize(
    ("name", "words"), [("retry", "upper-case"), ("DATABASE_URL", "set by the checker")]
)
def test_env_names_are_checked(tmp_path, name, words):
    with pytest.raises(ManifestError) as info:
        load_lab(_write(tmp_path, GOOD + f'\n[env]\n{name} = "x"\n'))
    assert info.value.field.startswith("env") and words in info.value.message
