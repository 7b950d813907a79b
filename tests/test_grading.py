"""The instructor side: the student edition, `lab grade` on one machine, signed results,
the gradebook and its exports.

The edition is built from a copy of this repository in which one crud check is marked
grading-only, and `lab check crud` runs inside it with the edition's own checker
package (PYTHONPATH), installing nothing. Grading runs real checks of generated
submissions (starter, solution, known-wrong and valid scenarios) whose verdicts are
known in advance.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.catalog import Catalog
from checker.grading.release import _tracked, checks_of_file
from checker.grading.sample import make_class

from .conftest import ROOT, lab_cli

HIDDEN = "conditional_requests"  # the check the copy marks grading-only


@pytest.fixture(scope="module")
def instructor_copy(tmp_path_factory) -> Path:
    """This repository (tracked files), with crud's bonus check marked grading-only."""
    dest = tmp_path_factory.mktemp("course") / "course"
    for rel in _tracked(ROOT):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    manifest = dest / "labs" / "01-crud" / "lab.toml"
    text = manifest.read_text()
    marker = f'id = "{HIDDEN}"\n'
    assert marker in text
    manifest.write_text(text.replace(marker, marker + 'visibility = "after_grading"\n'))
    return dest


@pytest.fixture(scope="module")
def edition(instructor_copy: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edition") / "student-edition"
    proc = lab_cli("release", "--out", str(out), cwd=instructor_copy,
                   env={"LAB_COURSE_DIR": str(instructor_copy)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"grading-only checks of crud: {HIDDEN}" in proc.stdout
    return out


def test_edition_leaves_out_solutions_scenarios_bugs_and_hidden_checks(
    instructor_copy: Path, edition: Path
):
    for absent in ("solutions", "tests", "benchmarks", ".ci", "checker/grading",
                   f"checker/checks/crud/test_{HIDDEN.split('_')[0]}.py", ".lab"):  # fmt: skip
        assert not (edition / absent).exists(), f"{absent} must not ship"
    # A plain path filter: the manifest ships byte for byte, and it never held the bugs.
    manifest = (edition / "labs" / "01-crud" / "lab.toml").read_text()
    assert manifest == (instructor_copy / "labs" / "01-crud" / "lab.toml").read_text()
    assert "[[bugs]]" not in manifest and "mutation" not in manifest
    assert not list(edition.rglob("bugs.toml"))
    shipped = {p.relative_to(edition).as_posix() for p in edition.rglob("*") if p.is_file()}
    assert not [p for p in shipped if p.endswith(".key") or "instructor" in p.split("/")[0]]
    assert "labs/01-crud/app/main.py" in shipped and "checker/checks/crud/test_create.py" in shipped


def test_lab_check_runs_inside_the_edition(edition: Path):
    env = {"LAB_COURSE_DIR": str(edition), "PYTHONPATH": str(edition)}
    which = subprocess.run([sys.executable, "-c", "import checker; print(checker.__file__)"],
                           cwd=edition, env={**os.environ, **env}, capture_output=True,
                           text=True)  # fmt: skip
    assert which.stdout.strip().startswith(str(edition)), "the edition's own checker runs"
    proc = lab_cli("check", "crud", "--json", cwd=edition, env=env)
    assert proc.returncode == 1, proc.stderr  # the starter fails its planted bugs
    result = json.loads(proc.stdout)
    lab = Catalog(ROOT).get("crud")
    visible = [c.id for c in lab.checks if c.id != HIDDEN]
    assert [c["id"] for c in result["checks"]] == visible
    failing = {c["id"] for c in result["checks"] if c["status"] != "pass"}
    assert failing == lab.expected_starter_failures() - {HIDDEN}
    assert result["error"] is None
    # The instructor's commands are not there.
    assert lab_cli("grade", "x", cwd=edition, env=env).returncode == 3


def test_checks_of_file_follows_the_plugins_rule(tmp_path: Path):
    f = tmp_path / "test_x.py"
    f.write_text(
        "import pytest\n\ndef test_alpha(http): pass\n\n"
        "@pytest.mark.check('beta')\ndef test_beta_part_two(http): pass\n"
    )
    assert checks_of_file(f) == {"alpha", "beta"}


def test_visibility_is_validated(tmp_path: Path):
    lab = tmp_path / "labs" / "01-x"
    lab.mkdir(parents=True)
    (lab / "lab.toml").write_text(
        'format_version = 1\nid = "x"\ntitle = "X"\norder = 1\n'
        '[[checks]]\nid = "a"\ntitle = "A"\npoints = 1\nvisibility = "secret"\n'
    )
    from checker.catalog import load_lab
    from checker.errors import ManifestError

    with pytest.raises(ManifestError, match="visibility"):
        load_lab(lab)


# ---------------------------------------------------------------- lab grade (local)


def _git_repo(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    git = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "-c",
        "init.defaultBranch=main",
    ]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "my lab"]):
        subprocess.run([*git, *args], cwd=dest, check=True, capture_output=True)
    return dest


@pytest.fixture(scope="module")
def graded(instructor_copy: Path, tmp_path_factory):
    """A class of 5 generated submissions, a tampered one, an empty one and a memory hog,
    graded with 3 local jobs by the instructor copy (which has the grading-only check)."""
    base = tmp_path_factory.mktemp("grading")
    lab = Catalog(ROOT).get("crud")
    subs = base / "submissions"
    expected = make_class(lab, subs, 5)
    # A student who "adjusted" the manifest and brought a checker of their own: ignored.
    tampered = subs / "student-tampered" / "labs" / "01-crud"
    shutil.copytree(subs / "student-01" / "labs" / "01-crud", tampered)
    (tampered / "lab.toml").write_text('format_version = 1\nid = "crud"\n[[checks]]\nid = "x"\n')
    (tampered.parent.parent / "checker").mkdir()
    (tampered.parent.parent / "checker" / "__init__.py").write_text("raise SystemExit(0)\n")
    expected["student-tampered"] = expected["student-01"]
    (subs / "student-empty").mkdir()
    # A service that grabs 2 GiB at start-up: the address-space limit stops it.
    hog = subs / "student-hog" / "labs" / "01-crud"
    shutil.copytree(subs / "student-02" / "labs" / "01-crud", hog)
    with (hog / "app" / "main.py").open("a") as f:
        f.write("\n_ballast = bytearray(2 << 30)\n")
    out = base / "results"
    instructor = base / "instructor"
    env = {"LAB_COURSE_DIR": str(instructor_copy), "LAB_INSTRUCTOR_HOME": str(instructor)}
    proc = lab_cli("grade", str(subs), "--lab", "crud", "--jobs", "3", "--out", str(out), cwd=instructor_copy,
                   env=env, timeout=300)  # fmt: skip
    return {"proc": proc, "expected": expected, "out": out, "env": env, "cwd": instructor_copy,
            "base": base}  # fmt: skip


def test_grade_gives_every_submission_its_known_verdicts(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 runs graded with 3 local jobs" in proc.stdout
    for student, (variant, verdicts) in graded["expected"].items():
        result = json.loads((graded["out"] / student / "crud.json").read_text())
        got = {c["id"]: c["status"] for c in result["checks"]}
        assert got == verdicts, f"{student} ({variant})"
        assert result["error"] is None
        assert result["signature"]["alg"] == "HMAC-SHA256"
    # The grading-only check ran under `lab grade`: its name and verdict are in the result.
    solution = json.loads((graded["out"] / "student-02" / "crud.json").read_text())
    assert {"id": HIDDEN, "status": "pass"}.items() <= next(
        c for c in solution["checks"] if c["id"] == HIDDEN
    ).items()
    empty = json.loads((graded["out"] / "student-empty" / "crud.json").read_text())
    assert empty["status"] == "error" and empty["error"]["kind"] == "not_submitted"
    assert "student-tampered" in proc.stdout
    hog = json.loads((graded["out"] / "student-hog" / "crud.json").read_text())
    assert hog["status"] == "error" and hog["error"]["kind"] == "memory_limit"
    assert "more than 2 GB of memory" in hog["error"]["message"]
    assert "MemoryError" in hog["error"]["log_tail"]


def test_verify_accepts_genuine_and_rejects_edited_or_forged(graded, tmp_path: Path):
    env, cwd = graded["env"], graded["cwd"]
    genuine = graded["out"] / "student-01" / "crud.json"
    ok = lab_cli("verify", str(genuine), cwd=cwd, env=env)
    assert ok.returncode == 0 and "genuine result" in ok.stdout, ok.stdout + ok.stderr
    doc = json.loads(genuine.read_text())
    doc["score"] = doc["max_score"]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc, indent=2))
    bad = lab_cli("verify", str(edited), cwd=cwd, env=env)
    assert bad.returncode == 1 and "changed after it was signed" in bad.stderr
    # Re-signed with a key of one's own: another key id.
    from checker.grading.signing import sign

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(sign(doc, b"k" * 32)))
    bad = lab_cli("verify", str(forged), cwd=cwd, env=env)
    assert bad.returncode == 1 and "another key" in bad.stderr
    doc.pop("signature")
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(doc))
    assert lab_cli("verify", str(unsigned), cwd=cwd, env=env).returncode == 1


def test_gradebook_keeps_every_run_and_exports(graded, tmp_path: Path):
    from checker.grading.gradebook import Gradebook

    url = f"sqlite:///{Path(graded['env']['LAB_INSTRUCTOR_HOME']) / 'gradebook.db'}"
    book = Gradebook(url)
    runs = book.runs()
    assert len(runs) == 8
    full = json.loads(runs[0].result_json)
    assert full["signature"] and full["checks"], "the full signed result is kept"
    book.close()
    env, cwd = graded["env"], graded["cwd"]
    out = tmp_path / "grades.csv"
    proc = lab_cli("gradebook", "export", "--format", "csv", "-o", str(out), cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["student-02"]["crud"] == "20" and rows["student-empty"]["crud"] == "0"
    assert lab_cli("verify", str(out), cwd=cwd, env=env).returncode == 0
    out.write_text(out.read_text().replace("student-01,1,", "student-01,20,"))
    rejected = lab_cli("verify", str(out), cwd=cwd, env=env)
    assert rejected.returncode == 1 and "changed after it was signed" in rejected.stderr
    gs = lab_cli("gradebook", "export", "--format", "gradescope", cwd=cwd, env=env)
    header = gs.stdout.splitlines()[0]
    assert header == "Name,SID,Email,crud,Total Score"


def test_grade_a_roster_of_git_repositories(graded, tmp_path: Path):
    subs = graded["base"] / "submissions"
    repo = _git_repo(subs / "student-02", tmp_path / "repos" / "ada")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"student,repo\nada,{repo}\nbob,{tmp_path / 'repos' / 'missing'}\n")
    proc = lab_cli(
        "grade",
        str(roster),
        "--lab",
        "crud",
        "--json",
        cwd=graded["cwd"],
        env=graded["env"],
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    results = {r["student"]: r for r in json.loads(proc.stdout)}
    assert results["ada"]["status"] == "pass" and results["ada"]["score"] == 20
    assert results["bob"]["error"]["kind"] == "clone_failed"


def _ours(marker: str) -> list[str]:
    """Processes working in, or checking a workspace under, ``marker``."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if marker in proc.cwd() or marker in proc.environ().get("LAB_WORKSPACE", ""):
                found.append(f"{proc.pid}: {' '.join(proc.cmdline())}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def test_interrupted_grade_leaves_no_process_behind(graded, tmp_path: Path):
    import signal
    import time

    marker = tmp_path / "tmp"
    marker.mkdir()
    subs = graded["base"] / "submissions"
    proc = subprocess.Popen(
        [sys.executable, "-m", "checker", "grade", str(subs), "--lab", "crud", "--jobs", "2"],
        # Without the fork servers: the run's processes are found by the environment
        # they started with (a forked one shows its fork server's); the forked path's
        # clean-up is tests/test_zygote.py's and tests/test_workers.py's.
        cwd=graded["cwd"],
        env={**os.environ, **graded["env"], "TMPDIR": str(marker), "LAB_ZYGOTE": "0"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _ours(str(marker)):  # a run in flight: its service (or checks) is up
        assert time.monotonic() < deadline and proc.poll() is None, "no run started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stderr
    assert _ours(str(marker)) == []


def test_gradebook_on_postgresql():
    """The same gradebook on PostgreSQL (the session's servers), by URL."""
    import secrets

    import psycopg

    from checker.grading.gradebook import Gradebook
    from checker.grading.signing import sign
    from checker.paths import state_dir
    from checker.services import providers
    from checker.services.databases import drop_database, with_database

    admin = providers(state_dir(ROOT)).postgres.ensure()
    name = f"lab_gradebook_test_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        book = Gradebook(with_database(admin, name))
        assert book.engine.dialect.name == "postgresql"
        checks = [{"id": "a", "title": "A", "status": "fail", "points": 2, "message": "no"}]
        for status, score in (("fail", 0), ("pass", 2)):
            doc = {"student": "ada", "lab": "crud", "status": status, "score": score,
                   "max_score": 2, "checks": [{**checks[0], "status": status}]}  # fmt: skip
            book.record("b1", sign(doc, b"k" * 32))
        cell = book.matrix()[("ada", "crud")]
        assert (cell.best, cell.attempts, cell.last_status) == (2, 2, "pass")
        assert [r.status for r in book.check_history("ada", "crud")["a"]] == ["fail", "pass"]
        assert book.export_csv() == "student,crud,total,max_total\nada,2,2,2\n"
        book.close()
    finally:
        drop_database(admin, name)


def test_jobs_carry_only_the_learners_regular_files(tmp_path: Path):
    import io
    import tarfile

    from checker.grading.jobs import SubmissionError, pack, unpack

    lab = tmp_path / "01-crud"
    (lab / "app" / "__pycache__").mkdir(parents=True)
    (lab / "app" / "main.py").write_text("app = None\n")
    (lab / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (lab / "lab.toml").write_text("points = 1000\n")
    (lab / "app" / "secrets.py").symlink_to("/etc/passwd")
    dest = tmp_path / "unpacked"
    unpack(pack(lab), dest)
    got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert got == ["app/main.py"]
    # A payload crafted by hand is checked again when unpacked.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        link = tarfile.TarInfo("app/key")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(SubmissionError, match="only files and folders"):
        unpack(buf.getvalue(), tmp_path / "evil")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.TarError):
        unpack(buf.getvalue(), tmp_path / "evil2")
    assert not (tmp_path / "escape.py").exists()


def test_a_lab_named_twice_is_graded_once(tmp_path: Path):
    from checker.grading.grade import discover

    (tmp_path / "subs" / "ada").mkdir(parents=True)
    shutil.copytree(ROOT / "labs" / "01-crud", tmp_path / "subs" / "ada" / "01-crud")
    tasks = discover(tmp_path / "subs", Catalog(ROOT), tmp_path / "work", ["crud", "crud"])
    assert [(t.student, t.lab.id) for t in tasks] == [("ada", "crud")]


@pytest.mark.parametrize(
    "verb",
    [
        ["release"],
        ["grade"],
        ["worker"],
        ["gradebook", "export"],
        ["verify"],
        ["dashboard"],
        ["dashboard-token"],
    ],  # fmt: skip
)
def test_every_instructor_verb_has_help(verb):
    res = lab_cli(*verb, "--help")
    assert res.returncode == 0, res.stderr
    assert "Usage: lab " in res.stdout and len(res.stdout.strip().splitlines()) > 3
