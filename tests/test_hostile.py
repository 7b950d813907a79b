"""Bad learner code gets a verdict, not a traceback, within its limit, and leaves no
process behind (DESIGN.md, principle 5)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker import sandbox

from .conftest import FIXTURE_CHECKS, FIXTURE_COURSE, ROOT, lab_cli, our_processes

HELLO = FIXTURE_COURSE / "labs" / "01-hello"


@pytest.fixture
def copy(hello_copy):
    return hello_copy


def run_json(copy, *extra_env_and_args, env=None, limit=30):
    t0 = time.monotonic()
    res = lab_cli("check", "hello", "--path", str(copy), "--json", env=env or {})
    took = time.monotonic() - t0
    assert took < limit, f"the verdict took {took:.1f} s (limit {limit} s)"
    data = json.loads(res.stdout)
    assert our_processes(str(copy)) == [], "a process of the run outlived it"
    return res.returncode, data


def test_syntax_error(copy):
    main = copy / "app" / "main.py"
    main.write_text(main.read_text().replace("def hello():", "def hello(:"))
    code, data = run_json(copy)
    assert code == 2 and data["status"] == "error"
    assert data["error"]["kind"] == "service_start_failed"
    assert "SyntaxError" in data["error"]["log_tail"]
    assert all(c["status"] == "error" for c in data["checks"])


def test_import_error(copy):
    main = copy / "app" / "main.py"
    main.write_text("import no_such_module_anywhere\n" + main.read_text())
    code, data = run_json(copy)
    assert code == 2 and data["error"]["kind"] == "service_start_failed"
    assert "ModuleNotFoundError" in data["error"]["log_tail"]


def test_service_that_never_becomes_healthy(copy):
    code, data = run_json(copy, env={"HELLO_SLOW_START": "3600", "LAB_START_TIMEOUT": "4"})
    assert code == 2 and data["error"]["kind"] == "service_unhealthy"
    assert "did not become healthy within 4 s" in data["error"]["message"]


def test_handler_that_hangs(copy):
    code, data = run_json(copy, env={"HELLO_CHECK_HANG": "1", "LAB_HTTP_TIMEOUT": "1"})
    assert code == 1
    greets = next(c for c in data["checks"] if c["id"] == "greets")
    assert greets["status"] == "fail"
    assert "did not answer GET /hang in time" in greets["message"]


def test_checks_that_outrun_the_time_limit(copy):
    env = {"HELLO_CHECK_HANG": "1", "LAB_HTTP_TIMEOUT": "60", "LAB_CHECKS_TIMEOUT": "3"}
    code, data = run_json(copy, env=env)
    assert code == 2 and data["error"]["kind"] == "timeout"


def test_service_that_crashes_mid_run(copy):
    main = copy / "app" / "main.py"
    main.write_text(
        main.read_text().replace(
            '    return {"greeting": "hello"}', "    import os\n    os._exit(1)"
        )
    )
    code, data = run_json(copy)
    assert code == 2 and data["status"] == "error"
    assert data["error"]["kind"] == "service_crashed"
    assert "exit code 1" in data["error"]["message"]
    greets = next(c for c in data["checks"] if c["id"] == "greets")
    assert greets["status"] == "fail" and "crashed" in greets["message"]


def test_log_flood_is_stopped(copy):
    code, data = run_json(copy, env={"HELLO_LOG_FLOOD": "1", "LAB_LOG_LIMIT_MB": "5"})
    assert code == 2 and data["error"]["kind"] == "log_flood"
    assert "more than 5 MB" in data["error"]["message"]


def test_a_port_taken_meanwhile_is_retried(copy, monkeypatch):
    """Between picking a free port and the service binding it, another program may take
    it: the run moves to another port instead of blaming the learner's code."""
    from checker import process, runner
    from checker.catalog import Catalog
    from checker.services.base import free_port
    from checker.workspace import Workspace

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    ports = iter([squatter.getsockname()[1]])
    monkeypatch.setattr(process, "free_port", lambda: next(ports, None) or free_port())
    monkeypatch.setenv("LAB_ZYGOTE", "0")
    lab = Catalog(FIXTURE_COURSE).get("hello")
    try:
        result = runner.run(lab, Workspace(copy, "copy"), state=Path(os.environ["LAB_HOME"]))
    finally:
        squatter.close()
    assert result.error is None, result.error
    assert result.score == 2


# ---------------------------------------------------------------- hostile submissions
#
# Each submission below attacks the checker from inside the learner's service (code a
# student could hand in). Under `lab check` and under `lab grade` alike: a clear verdict,
# the checker's files unchanged, no process left, the key in no result.

SANDBOXED = sandbox.probe().root and sandbox.probe().unshare
KEY_HEX = "5eed" * 16  # an instructor key planted where the grader keeps its own


def _plant(copy: Path, code: str) -> None:
    main = copy / "app" / "main.py"
    main.write_text(main.read_text() + "\n\n# --- the submission's extra\n" + code)


def _checker_state() -> tuple[str, str]:
    """`git status` of the checker and the fixture checks, and a digest of their bytes."""
    status = subprocess.run(["git", "status", "--porcelain", "--", "checker", "tests/fixtures"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout  # fmt: skip
    return status, sandbox.digest(ROOT / "checker", ROOT / "checker" / "checks", FIXTURE_CHECKS)


@pytest.fixture
def unchanged_checker():
    """The checker's files are exactly as before the test (clean in CI)."""
    before = _checker_state()
    yield
    assert _checker_state() == before, "a submission changed the checker's files"


def _no_process(marker: str) -> None:
    for _ in range(50):
        if not our_processes(marker):
            return
        time.sleep(0.05)
    raise AssertionError(f"processes outlived the run: {our_processes(marker)}")


def _instructor_home(tmp_path: Path) -> Path:
    home = tmp_path / "instructor"
    home.mkdir(mode=0o700)
    (home / "signing.key").write_text(KEY_HEX + "\n")
    (home / "signing.key").chmod(0o600)
    return home


HOSTILE = {
    # name: (code appended to app/main.py, extra env, what the verdict must say)
    "daemon": (
        "import os as _o\n"
        "if _o.fork() == 0:\n"
        "    _o.setsid()\n"
        "    if _o.fork() == 0:\n"
        "        _o.execvp('sleep', ['sleep', '{marker}'])\n"
        "    _o._exit(0)\n",
        {},
        None,
    ),
    "rewrite_checks": (
        "import pathlib as _p\n"
        "for _f in [*_p.Path('{checks}').rglob('*.py'), *_p.Path('{package}').glob('*.py')]:\n"
        "    try:\n"
        "        _f.write_text('def test_greets():\\n    pass\\n')\n"
        "    except OSError as _e:\n"
        "        print('refused:', _e)\n",
        {},
        None,
    ),
    "steal_key": (
        "import os as _o, pathlib as _p\n"
        "_found = []\n"
        "for _root in ['{instructor}', '{state}', _o.path.dirname(_o.readlink('/proc/self/fd/1'))]:\n"
        "    for _d, _, _fs in _o.walk(_root):\n"
        "        for _f in _fs:\n"
        "            try:\n"
        "                _found.append(_p.Path(_d, _f).read_text()[:200])\n"
        "            except (OSError, ValueError):\n"
        "                pass\n"
        "print('STOLEN', _found, flush=True)\n"
        "raise SystemExit(1)\n",
        {},
        "service_start_failed",
    ),
    "database_breakout": (
        "import os as _o, psycopg as _pg\n"
        "from urllib.parse import urlsplit as _u\n"
        "_me = _u(_o.environ['DATABASE_URL'])\n"
        "with _pg.connect(_o.environ['DATABASE_URL'], autocommit=True) as _c:\n"
        "    _others = [r[0] for r in _c.execute('SELECT datname FROM pg_database').fetchall()]\n"
        "    for _sql in ['DROP DATABASE %s' % _d for _d in _others if _d.startswith('lab_tpl')] + [\n"
        "            'CREATE ROLE x SUPERUSER', 'ALTER ROLE CURRENT_USER SUPERUSER']:\n"
        "        try:\n"
        "            _c.execute(_sql); print('BREAKOUT ok', _sql, flush=True)\n"
        "        except _pg.Error:\n"
        "            print('refused', _sql, flush=True)\n"
        "_tries = [f'postgresql://postgres@{_me.hostname}:{_me.port}/postgres']\n"
        "_tries += [_me._replace(path='/' + _d).geturl() for _d in _others]\n"
        "for _url in _tries:\n"
        "    if _url == _o.environ['DATABASE_URL']:\n"
        "        continue\n"
        "    try:\n"
        "        _pg.connect(_url, connect_timeout=3).close(); print('BREAKOUT ok', _url, flush=True)\n"
        "    except _pg.Error:\n"
        "        print('refused', _url, flush=True)\n",
        {},
        None,
    ),
    "redis_breakout": (
        "import os as _o, redis as _r\n"
        "from urllib.parse import urlsplit as _u\n"
        "_me = _u(_o.environ['REDIS_URL'])\n"
        "_c = _r.Redis.from_url(_o.environ['REDIS_URL'])\n"
        "for _cmd in [('SELECT', 0), ('SELECT', 2), ('FLUSHALL',), ('CONFIG', 'GET', 'dir'),\n"
        "             ('SWAPDB', 0, 1), ('MOVE', 'k', 0), ('ACL', 'LIST'), ('DEBUG', 'SLEEP', 0)]:\n"
        "    try:\n"
        "        _c.execute_command(*_cmd); print('BREAKOUT ok', _cmd, flush=True)\n"
        "    except _r.RedisError:\n"
        "        print('refused', _cmd, flush=True)\n"
        "for _db in (0, 2):\n"
        "    try:\n"
        "        _r.Redis(host=_me.hostname, port=_me.port, db=_db).ping()\n"
        "        print('BREAKOUT ok default user', _db, flush=True)\n"
        "    except _r.RedisError:\n"
        "        print('refused default user', _db, flush=True)\n",
        {},
        None,
    ),
    "endless_body": (
        "from starlette.responses import StreamingResponse as _SR\n"
        "@app.middleware('http')\n"
        "async def _flood(request, call_next):\n"
        "    if request.url.path != '/hello':\n"
        "        return await call_next(request)\n"
        "    async def _gen():\n"
        "        while True:\n"
        "            yield b'x' * (1 << 20)\n"
        "    return _SR(_gen(), media_type='application/json')\n",
        {},
        None,
    ),
    "detect_checker": (  # behaves well only when it thinks the checker is asking
        "import os as _o\n"
        "from starlette.responses import JSONResponse as _JR\n"
        "@app.middleware('http')\n"
        "async def _for_the_checker(request, call_next):\n"
        "    _ua = request.headers.get('user-agent', '')\n"
        "    _env = ' '.join(f'{k}={v}' for k, v in _o.environ.items())\n"
        "    _tells = ('httpx' in _ua, 'LAB_' in _env, 'lab-' in _env, 'check' in _ua.lower())\n"
        "    if request.url.path == '/hello' and any(_tells):\n"
        "        return _JR({'greeting': 'hello'}, status_code=200)\n"
        "    return await call_next(request)\n",
        {},
        None,
    ),
    "memory_bomb": ("_ballast = bytearray(3 << 30)\n", {}, "memory_limit"),
    "thread_bomb": (
        "import threading as _t, time as _tm\n"
        "while True:\n"
        "    _t.Thread(target=_tm.sleep, args=(60,), daemon=True).start()\n",
        {"LAB_MAX_PROCESSES": "64"},
        "process_limit",
    ),
    "cpu_burn": (
        "while True:\n    pass\n",
        {"LAB_CPU_SECONDS": "2", "LAB_START_TIMEOUT": "15"},
        "cpu_limit",
    ),  # fmt: skip
    "inherited_fds": (
        "import os as _o\n"
        "print('FDS ' + ' '.join(sorted(_o.listdir('/proc/self/fd'), key=int)), flush=True)\n"
        "raise SystemExit(1)\n",
        {},
        "service_start_failed",
    ),
    "snoop_environment": (
        "import os as _o\n"
        "print('ENV ' + ' '.join(sorted(_o.environ)) + ' UID %d' % _o.getuid(), flush=True)\n"
        "raise SystemExit(1)\n",
        {},
        "service_start_failed",
    ),
}


def _hostile_code(name: str, marker: str, state: Path, instructor: Path) -> str:
    code = HOSTILE[name][0]
    return (code.replace("{marker}", marker).replace("{checks}", str(FIXTURE_CHECKS))
            .replace("{package}", str(ROOT / "checker")).replace("{state}", str(state))
            .replace("{instructor}", str(instructor)))  # fmt: skip


def _judge(name: str, data: dict, marker: str) -> None:
    """What each hostile submission's verdict must be."""
    kind = (data.get("error") or {}).get("kind")
    text = json.dumps(data)
    assert KEY_HEX not in text, "the instructor's key leaked into a result"
    expected = HOSTILE[name][2]
    if expected is not None:
        assert kind == expected, (kind, data.get("error"))
    if name == "memory_bomb":
        assert "more than 2 GB of memory" in data["error"]["message"]
    elif name == "thread_bomb":
        assert "more than 64 processes" in data["error"]["message"]
    elif name == "cpu_burn":
        assert "more than 2 s of CPU time" in data["error"]["message"]
    elif name in ("daemon", "rewrite_checks", "database_breakout", "redis_breakout",
                  "detect_checker"):  # fmt: skip
        # Judged as usual: the planted bug fails, the rest passes.
        status = {c["id"]: c["status"] for c in data["checks"]}
        why = {c["id"]: c["message"] for c in data["checks"] if c["status"] == "error"}
        assert status == {"greets": "fail", "stores_in_db": "pass", "uses_redis": "pass"}, (
            data.get("error"),
            why,
        )
    elif name == "endless_body":
        greets = next(c for c in data["checks"] if c["id"] == "greets")
        assert greets["status"] == "fail" and greets.get("kind") == "body-too-large", greets
        assert "larger than 10 MB" in greets["message"]
    elif name == "steal_key":
        assert "STOLEN" in data["error"]["log_tail"]  # it ran, and found no key
    elif name == "inherited_fds":
        fds = data["error"]["log_tail"].split("FDS ", 1)[1].split()
        # 0-2, and the one listdir itself opens: nothing of the checker's.
        assert len(fds) <= 4 and fds[:3] == ["0", "1", "2"], fds
    elif name == "snoop_environment":
        env = data["error"]["log_tail"].split("ENV ", 1)[1]
        names = env.split(" UID ")[0].split()
        assert not [n for n in names if n.startswith("LAB_")], names
        if SANDBOXED:
            assert int(env.split(" UID ")[1].split()[0]) != os.getuid()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_submission_under_lab_check(name, copy, tmp_path, unchanged_checker):
    if name in ("memory_bomb", "thread_bomb", "cpu_burn") and not SANDBOXED:
        pytest.skip("needs the sandbox's limits (root and util-linux unshare)")  # pragma: no cover
    marker = f"7{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
    state = Path(os.environ["LAB_HOME"])
    instructor = _instructor_home(tmp_path)
    _plant(copy, _hostile_code(name, marker, state, instructor))
    env = {**HOSTILE[name][1], "LAB_INSTRUCTOR_HOME": str(instructor)}
    res = lab_cli("check", "hello", "--path", str(copy), "--json", env=env)
    data = json.loads(res.stdout)
    _judge(name, data, marker)
    external = os.environ.get("LAB_DATABASE_URL" if "database" in name else "LAB_REDIS_URL")
    if name.endswith("_breakout") and SANDBOXED and not external:
        # The embedded servers check passwords: the run's user reached nothing else.
        log = max(state.glob("runs/*-hello-*/service.log"), key=lambda p: p.stat().st_mtime)
        text = log.read_text()
        assert "refused" in text and "BREAKOUT" not in text, text[-3000:]
    _no_process(marker)
    _no_process(str(copy))


def test_hostile_class_under_lab_grade(tmp_path, unchanged_checker):
    """The same submissions graded together: each gets its verdict, none leaks the key
    into the signed results, nothing is left running, and an honest student graded
    after them is judged as usual."""
    if not SANDBOXED:
        res = lab_cli("grade", str(tmp_path), env={"LAB_COURSE_DIR": str(FIXTURE_COURSE)})
        assert res.returncode == 3 and "--unsafe-no-sandbox" in res.stderr
        return
    instructor = _instructor_home(tmp_path)
    state = Path(os.environ["LAB_HOME"])
    subs = tmp_path / "subs"
    markers = {}
    names = ["daemon", "rewrite_checks", "steal_key", "memory_bomb", "snoop_environment"]
    for name in names:
        dest = subs / name / "labs" / "01-hello"
        shutil.copytree(HELLO, dest)
        markers[name] = f"7{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
        _plant(dest, _hostile_code(name, markers[name], state, instructor))
    shutil.copytree(HELLO, subs / "zz-honest" / "labs" / "01-hello")
    out = tmp_path / "out"
    env = {"LAB_COURSE_DIR": str(FIXTURE_COURSE), "LAB_CHECKS_DIR": str(FIXTURE_CHECKS),
           "LAB_INSTRUCTOR_HOME": str(instructor)}  # fmt: skip
    res = lab_cli("grade", str(subs), "--jobs", "2", "--out", str(out), "--json", env=env)
    assert res.returncode in (0, 1), res.stderr[-2000:]
    assert KEY_HEX not in res.stdout
    for name in names:
        data = json.loads((out / name / "hello.json").read_text())
        _judge(name, data, markers[name])
        _no_process(markers[name])
    honest = json.loads((out / "zz-honest" / "hello.json").read_text())
    assert {c["id"]: c["status"] for c in honest["checks"]} == {
        "greets": "fail", "stores_in_db": "pass", "uses_redis": "pass"}  # fmt: skip


def test_redis_lost_mid_run_is_said_so(copy, tmp_path):
    """Redis dies while the checks run (here: killed by the test, as an out-of-memory
    killer or a crash would): the run's error says so, never "a problem in Backend Lab"."""
    if os.environ.get("LAB_REDIS_URL"):
        pytest.skip("kills the embedded Redis; the machine's own is never touched")
    _plant(copy, "import time as _tm\n@app.middleware('http')\nasync def _slow(request, call_next):\n"
                 "    if request.url.path == '/count':\n"
                 "        print('COUNTING', flush=True)\n        _tm.sleep(3)\n"
                 "    return await call_next(request)\n")  # fmt: skip
    state = Path(os.environ["LAB_HOME"])
    lab_cli("services", "up")  # so its pid file is there to read
    env = {
        **os.environ,
        "LAB_COURSE_DIR": str(FIXTURE_COURSE),
        "LAB_CHECKS_DIR": str(FIXTURE_CHECKS),
    }
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "checker", "check", "hello", "--path", str(copy),
                             "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until a check asks the service to count
            logs = [p for p in state.glob("runs/*-hello-*/service.log")
                    if p.stat().st_mtime >= started - 1]  # fmt: skip
            if any("COUNTING" in p.read_text(errors="replace") for p in logs):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the checks never reached GET /count")
        pid = int((state / "redis" / "redis.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    data = json.loads(out)
    assert data["error"]["kind"] == "redis_lost", data["error"]
    assert "Backend Lab" not in json.dumps(data)
    assert lab_cli("check", "hello", "--path", str(copy), "--json").returncode in (1, 2)  # it heals


def test_each_run_draws_a_seed_and_replays_one_given(copy):
    """Probe values come from a per-run seed, recorded in the result; `--seed` replays."""
    drawn = json.loads(lab_cli("check", "hello", "--path", str(copy), "--json").stdout)
    assert isinstance(drawn["seed"], int)
    replay = lab_cli("check", "hello", "--path", str(copy), "--json", "--seed", "4242")
    assert json.loads(replay.stdout)["seed"] == 4242
    assert drawn["seed"] != 4242  # drawn from 10**9 values: a repeat is a bug, not luck


def test_leftovers_of_a_run_whose_grader_died_are_reaped(tmp_path):
    """A grader killed mid-run (a `lab worker` SIGKILLed) never closes its sandbox: what
    ran under the run's uid is killed by the next run's sandbox, once nobody holds the
    uid's lease; a uid still leased is left alone."""
    if not sandbox.probe().root:
        pytest.fail("this test needs root (the sandbox's own uid): CI runs as root")
    held = sandbox.Sandbox()
    dead = sandbox.Sandbox()
    procs = []
    for box in (held, dead):
        spec = box.spec()
        procs.append(subprocess.Popen(["sleep", "60"], preexec_fn=spec.become))
    try:
        os.close(dead._lock_fd)  # its grader died: the lease is free
        dead._lock_fd = None
        reaped = sandbox.reap_orphans()
        assert dead.uid in reaped and held.uid not in reaped
        assert procs[1].wait(timeout=5) == -signal.SIGKILL
        assert procs[0].poll() is None, "a live run's processes are left alone"
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        held.close()
        dead.close()


HOSTILE_LOCUSTFILE = """
import os
from pathlib import Path

_tried = {}
for _name, _path in [("checks", Path(%(checks)r) / "pwned.py"), ("state", Path(%(state)r) / "pwned")]:
    try:
        _path.write_text("x")
        _tried[_name] = "WROTE"
    except OSError as _exc:
        _tried[_name] = type(_exc).__name__
_lab = sorted(k for k in os.environ if k.startswith("LAB_") and not k.startswith("LAB_LOCUST_"))
raise RuntimeError(f"HOSTILE uid={os.getuid()} tried={_tried} lab_env={_lab}")

from locust import HttpUser, between, task  # what the static reading asks for


class Shopper(HttpUser):
    wait_time = between(1, 2)

    @task(3)
    def browse(self):
        self.client.get("/books")

    @task(2)
    def book(self):
        self.client.get("/books/1")

    @task(1)
    def stock(self):
        self.client.get("/stock/9780000000017")
"""


@pytest.mark.skipif(not SANDBOXED, reason="needs root and util-linux unshare")
def test_a_hostile_locustfile_runs_in_the_sandbox(tmp_path):
    """The learner's locustfile is learner code too: the load-testing check runs it under
    the run's uid, where it can write neither the hidden checks nor the grader's state,
    and sees none of the checker's variables (but the progress file of locust's plugin,
    loaded into the same process). Its verdict says what it raised."""
    from checker import runner
    from checker.catalog import Catalog
    from checker.paths import state_dir
    from checker.workspace import compose

    lab = Catalog(ROOT).get("load-testing")
    state = state_dir(ROOT)
    checks = lab.checks_path
    with compose(lab) as ws:
        (ws.path / "locustfile.py").write_text(HOSTILE_LOCUSTFILE % {
            "checks": str(checks), "state": str(state)})  # fmt: skip
        result = runner.run(lab, ws, state=state, only={"locustfile_realistic"})
    assert not (checks / "pwned.py").exists() and not (state / "pwned").exists()
    check = next(c for c in result.checks if c.id == "locustfile_realistic")
    assert check.status == "fail" and check.kind == "does-not-run", check
    said = check.message.split("HOSTILE ", 1)[1]
    uid = int(said.split("uid=", 1)[1].split()[0])
    assert sandbox.UID_BASE <= uid < sandbox.UID_BASE + sandbox.UID_SLOTS, said
    assert "WROTE" not in said and "lab_env=[]" in said, said
