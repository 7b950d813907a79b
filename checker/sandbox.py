"""How learner processes are confined: one sandbox per run, shared by everything the
run starts from learner code (the service, its worker, its migrations, and whatever
those start in turn).

What a sandbox gives, when the machine allows it (see ``probe``):

* **a uid of its own**: when the checker runs as root, each run leases a uid from
  ``UID_BASE``.. (no account needed) under a machine-wide lock. Learner code then cannot
  write the checker, the hidden checks or the learner's own folder, and cannot read the
  state dir (keys, gradebook, other runs' logs, progress: all 0700 or 0600, root's). It
  writes only its run copy and private temp dir (``HOME``, ``TMPDIR``), both its own.
  When the run ends, every process of that uid is killed, however it was detached.
* **a PID namespace**: commands are started under ``unshare --pid --fork --kill-child``
  (util-linux), so when the run kills the command every process it started dies with it.
  Services forked by the zygote cannot change namespace without exec (that would lose
  the preloaded imports); they rely on the per-run uid for the same guarantee.
* **limits** (``setrlimit``, inherited by every descendant): address space
  (``LAB_MEMORY_MB``, default 2048), processes and threads of the run's uid
  (``LAB_MAX_PROCESSES``), CPU seconds per process (``LAB_CPU_SECONDS``). Hitting one
  gives a run error that names it (``limit_hit``).
* **no inherited descriptors**: children get /dev/null, their log, and nothing else.

Where something cannot be set up (not root, no util-linux, no user namespaces) the
sandbox says which protection is missing (``missing``): `lab check` prints it once and
carries on; `lab grade` refuses unless given ``--unsafe-no-sandbox``.

Processes learn the run's sandbox from ``LAB_SANDBOX`` in the environment they are
given (a JSON spec); :func:`wrap` removes it before learner code sees the environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENV_VAR = "LAB_SANDBOX"
UID_BASE = 61000
UID_SLOTS = 512
LOCK_DIR = Path("/run/lock/backend-lab")

DEFAULT_MEMORY_MB = 2048
DEFAULT_PROCESSES = 512
DEFAULT_CPU_S = 900


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


@dataclass
class Limits:
    memory_mb: int = DEFAULT_MEMORY_MB
    processes: int = DEFAULT_PROCESSES
    cpu_s: int = DEFAULT_CPU_S

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            # LAB_SERVICE_MEMORY_MB: the name `lab grade` used before.
            memory_mb=_int_env(
                "LAB_MEMORY_MB", _int_env("LAB_SERVICE_MEMORY_MB", DEFAULT_MEMORY_MB)
            ),
            processes=_int_env("LAB_MAX_PROCESSES", DEFAULT_PROCESSES),
            cpu_s=_int_env("LAB_CPU_SECONDS", DEFAULT_CPU_S),
        )


@dataclass
class Abilities:
    """What this machine lets us set up (probed once per process)."""

    root: bool
    unshare: bool  # unshare --pid --fork --kill-child works
    userns: bool  # ... inside a user namespace (not root)

    def missing(self) -> list[str]:
        gaps = []
        if not self.root:
            gaps.append(
                "a separate user for your code (the checker is not running as root), so "
                "your code could read and write what you can"
            )
        if not (self.unshare or self.userns):
            gaps.append(
                "a process namespace (util-linux `unshare` is missing or not allowed), so a "
                "process your code detaches could outlive the run"
            )
        return gaps


_ABILITIES: Abilities | None = None


def probe() -> Abilities:
    global _ABILITIES
    if _ABILITIES is None:
        root = sys.platform == "linux" and os.geteuid() == 0
        unshare = userns = False
        if sys.platform == "linux" and shutil.which("unshare"):
            flags = ["--pid", "--fork", "--kill-child"]
            if not root:
                flags = ["--user", "--map-current-user", *flags]
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                ok = subprocess.run(["unshare", *flags, "true"], capture_output=True,
                                    timeout=5).returncode == 0  # fmt: skip
                unshare, userns = (ok, False) if root else (False, ok)
        if root and not shutil.which("setpriv"):
            root = False  # cannot drop to another uid for exec'd commands
        _ABILITIES = Abilities(root=root, unshare=unshare, userns=userns)
    return _ABILITIES


@dataclass
class Spec:
    """What a spawner needs to confine a process (travels as JSON in ``LAB_SANDBOX``)."""

    uid: int | None = None
    home: str = ""  # the private dir: HOME and TMPDIR
    memory_mb: int = DEFAULT_MEMORY_MB
    processes: int = DEFAULT_PROCESSES
    cpu_s: int = DEFAULT_CPU_S
    pidns: list[str] = field(default_factory=list)  # the unshare command, or []
    mounts: str = ""  # shell commands run first in a mount namespace (mount_script)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Spec | None:
        raw = env.get(ENV_VAR)
        return cls(**json.loads(raw)) if raw else None

    # -- applied in the child ---------------------------------------------------------

    def apply_limits(self) -> None:
        """In the child, before exec (or before the zygote's child imports learner code)."""
        import resource

        mem = self.memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_s, self.cpu_s + 5))
        if self.uid is not None:  # RLIMIT_NPROC counts the uid's processes: ours alone
            resource.setrlimit(resource.RLIMIT_NPROC, (self.processes, self.processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def become(self) -> None:
        """In a forked child (the zygote's): drop to the run's uid, for good."""
        self.apply_limits()
        if self.uid is not None:
            os.setgroups([])
            os.setresgid(self.uid, self.uid, self.uid)
            os.setresuid(self.uid, self.uid, self.uid)

    def learner_env(self, env: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in env.items() if k != ENV_VAR}
        if self.home:
            env.update(HOME=self.home, TMPDIR=str(Path(self.home) / "tmp"))
        return env


def wrap(
    args: Sequence[str], env: dict[str, str]
) -> tuple[list[str], dict[str, str], Callable[[], None] | None]:
    """(args, env, preexec_fn) to start learner code under the run's sandbox named in
    ``env``; unchanged (but for LAB_SANDBOX) when the run has none."""
    spec = Spec.from_env(env)
    if spec is None:
        return list(args), env, None
    prefix: list[str] = []
    if spec.pidns:
        mount = ["--mount"] if spec.mounts else []
        prefix = [spec.pidns[0], *mount, *spec.pidns[1:], "--"]
        if spec.mounts:
            prefix += ["sh", "-c", spec.mounts + '\nexec "$@"', "sh"]
    if spec.uid is not None:
        prefix += ["setpriv", f"--reuid={spec.uid}", f"--regid={spec.uid}", "--clear-groups",
                   "--no-new-privs", "--"]  # fmt: skip
    return prefix + list(args), spec.learner_env(env), spec.apply_limits


#: In the hidden checks' environment (never learner code's): the run's sandbox, for the
#: learner code a check runs itself (load-testing's locustfile).
CHECKS_VAR = "LAB_LEARNER_SANDBOX"


class ForChecks:
    """The run's sandbox as a hidden check sees it: ``wrap`` confines a command of
    learner code exactly as the service is confined (uid, namespaces, limits), and
    ``workdir`` is a folder that code may write, in the run's private dir."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ForChecks | None:
        raw = (os.environ if env is None else env).get(CHECKS_VAR)
        return cls(Spec(**json.loads(raw))) if raw else None

    def wrap(self, args: Sequence[str], env: dict[str, str]):
        """(args, env, preexec_fn), as :func:`wrap` gives the service's spawner."""
        return wrap(args, {**env, ENV_VAR: self.spec.to_env()})

    def workdir(self, name: str) -> Path:
        base = Path(self.spec.home) if self.spec.home else Path(tempfile.mkdtemp())
        path = base / name
        path.mkdir(parents=True, exist_ok=True)
        if self.spec.uid is not None:
            os.chown(path, self.spec.uid, self.spec.uid)
        return path


# ---------------------------------------------------------------- the run's side


class Sandbox:
    """One run's confinement: a uid lease, a private dir, the limits. ``close`` kills
    whatever is left of the run's processes and removes the private dir."""

    def __init__(self, limits: Limits | None = None, *, state: Path | None = None) -> None:
        self.limits = limits or Limits.from_env()
        self.abilities = probe()
        self.uid: int | None = None
        self._lock_fd: int | None = None
        if self.abilities.root:
            reap_orphans()
            self._lease_uid()
            if state is not None:
                protect_state(state)
        # A name like any temp dir, where the run's uid can reach it: the grader's own
        # TMPDIR may sit inside a folder only the grader can enter (a worker's, pytest's).
        self.home = Path(tempfile.mkdtemp(dir=_reachable_tmp()))
        (self.home / "tmp").mkdir()
        if self.uid is not None:
            for p in (self.home, self.home / "tmp"):
                os.chown(p, self.uid, self.uid)

    @property
    def missing(self) -> list[str]:
        return self.abilities.missing()

    @property
    def complete(self) -> bool:
        return not self.missing

    def spec(self) -> Spec:
        pidns: list[str] = []
        mounts = ""
        if self.abilities.unshare:
            pidns = ["unshare", "--pid", "--fork", "--kill-child"]
            if self.uid is not None and shadow_mounts():
                mounts = mount_script(self.home / "mnt")
        elif self.abilities.userns:
            pidns = ["unshare", "--user", "--map-current-user", "--pid", "--fork", "--kill-child"]
        return Spec(uid=self.uid, home=str(self.home), memory_mb=self.limits.memory_mb,
                    processes=self.limits.processes, cpu_s=self.limits.cpu_s, pidns=pidns,
                    mounts=mounts)  # fmt: skip

    def env(self) -> dict[str, str]:
        return {ENV_VAR: self.spec().to_env()}

    def code_dir(self, src: Path) -> Path:
        """Where learner code runs from: its own folder when the run's uid can read it
        there (it then writes nothing of it), else a copy in the private dir."""
        if self.uid is None or _world_readable(src):
            return src
        return self.copy_in(src)

    def copy_in(self, src: Path) -> Path:
        """The run copy of the learner's folder, owned by the run's uid."""
        from .workspace import IGNORE

        dest = self.home / src.name
        shutil.copytree(src, dest, ignore=IGNORE, symlinks=True)
        if self.uid is not None:
            for dirpath, dirnames, filenames in os.walk(dest):
                os.chown(dirpath, self.uid, self.uid)
                for name in filenames + dirnames:
                    with contextlib.suppress(OSError):
                        os.lchown(os.path.join(dirpath, name), self.uid, self.uid)
        return dest

    def _lease_uid(self) -> None:
        LOCK_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        start = (os.getpid() * 7) % UID_SLOTS
        for i in range(UID_SLOTS):
            slot = (start + i) % UID_SLOTS
            fd = os.open(LOCK_DIR / f"uid-{slot}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid, self._lock_fd = UID_BASE + slot, fd
            kill_uid(self.uid)  # anything left by a run that died with this uid
            return
        raise OSError("no free sandbox uid")  # pragma: no cover - 512 runs at once

    def processes(self) -> list[int]:
        return uid_processes(self.uid) if self.uid is not None else []

    def close(self) -> None:
        if self.uid is not None:
            kill_uid(self.uid)
        shutil.rmtree(self.home, ignore_errors=True)
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # releases the uid
            self._lock_fd = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def protect_state(state: Path) -> None:
    """Nothing of the state dir readable by other users: the embedded PostgreSQL's own
    user needs only to pass through it (to its data dir, which is its own)."""
    import stat

    with contextlib.suppress(OSError):
        os.chmod(state, 0o711)
        for entry in os.scandir(state):
            st = entry.stat(follow_symlinks=False)
            if st.st_uid != 0 or stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
                continue  # the server's own folder, or already private
            os.chmod(entry.path, 0o700 if stat.S_ISDIR(st.st_mode) else 0o600)


def _reachable_tmp() -> str | None:
    """The temp folder to use for a run's private dir: the usual one when other users can
    pass through every folder on its way, else the first system one that they can."""
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        path = Path(candidate)
        if path.is_dir() and _blocked_at(path) is None:
            return candidate
    return None


def _blocked_at(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot pass through."""
    import stat

    for parent in [*reversed(path.parents), path]:
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return parent
    return None


_SHADOWS: dict[Path, list[Path]] | None = None


def shadow_mounts() -> dict[Path, list[Path]]:
    """Folders the run's uid cannot pass through (e.g. /root, mode 0700) that hold what
    its processes need (the Python installation, this package), with those paths."""
    global _SHADOWS
    if _SHADOWS is not None:
        return _SHADOWS
    need = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), PACKAGE.parent}
    shadows: dict[Path, list[Path]] = {}
    for path in sorted(need):
        blocked = _blocked_at(path)
        if blocked is not None and blocked != path:
            shadows.setdefault(blocked, []).append(path)
    _SHADOWS = shadows
    return shadows


def zygote_prefix(stage: Path) -> list[str]:
    """How to start the zygote (root, trusted) so the services it forks, once they
    drop to a run's uid, still reach the Python installation: in a mount namespace of
    its own with ``mount_script`` applied. [] when nothing needs it."""
    if not (probe().root and probe().unshare and shadow_mounts()):
        return []
    return ["unshare", "--mount", "--", "sh", "-c", mount_script(stage) + '\nexec "$@"', "sh"]


def mount_script(stage: Path) -> str:
    """Shell commands (run as root in a new mount namespace) that put, over each folder
    of ``shadow_mounts``, a passable folder showing only what is needed beneath it."""
    import shlex

    lines = ["set -e"]
    for i, (blocked, paths) in enumerate(shadow_mounts().items()):
        top = stage / f"s{i}"
        lines.append(f"mkdir -p {shlex.quote(str(top))}")
        lines.append(f"mount -t tmpfs -o mode=0711,size=1m lab-shadow {shlex.quote(str(top))}")
        for path in paths:
            inner = top / path.relative_to(blocked)
            lines.append(f"mkdir -p {shlex.quote(str(inner))}")
            lines.append(f"mount --rbind {shlex.quote(str(path))} {shlex.quote(str(inner))}")
        lines.append(f"mount --rbind {shlex.quote(str(top))} {shlex.quote(str(blocked))}")
    return "\n".join(lines)


def _world_readable(folder: Path) -> bool:
    """Can any user read every file of ``folder`` (and reach it)?"""
    import stat

    try:
        for parent in folder.resolve().parents:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        for dirpath, _dirnames, filenames in os.walk(folder):
            if os.stat(dirpath).st_mode & (stat.S_IROTH | stat.S_IXOTH) != (
                stat.S_IROTH | stat.S_IXOTH
            ):
                return False
            for name in filenames:
                mode = os.lstat(os.path.join(dirpath, name)).st_mode
                if stat.S_ISREG(mode) and not mode & stat.S_IROTH:
                    return False
    except OSError:
        return False
    return True


def uid_processes(uid: int) -> list[int]:
    """Live (not zombie) processes of ``uid``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def reap_orphans() -> list[int]:
    """Kill what runs under a sandbox uid whose lease nobody holds any more: the leftovers
    of a run whose grader died with it (a `lab worker` killed mid-job never reached its
    sandbox's ``close``). One pass over /proc; returns the uids reaped."""
    owners: set[int] = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                uid = os.stat(f"/proc/{name}").st_uid
                if UID_BASE <= uid < UID_BASE + UID_SLOTS:
                    owners.add(uid)
    reaped = []
    for uid in sorted(owners):
        if lease_held(uid) is False:
            kill_uid(uid)
            reaped.append(uid)
    return reaped


def lease_held(uid: int) -> bool | None:
    """Whether a live run holds the lease of sandbox ``uid`` (None: no lease file, the
    uid was never leased on this machine). Takes the lock for an instant if it is free."""
    try:
        fd = os.open(LOCK_DIR / f"uid-{uid - UID_BASE}", os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        return False
    finally:
        os.close(fd)  # releases the lock, if we took it


def kill_uid(uid: int, timeout: float = 3.0) -> None:
    """SIGKILL every process of ``uid`` (as that uid: ``kill(-1)`` reaches exactly its
    processes), until none is left."""
    deadline = time.monotonic() + timeout
    while uid_processes(uid) and time.monotonic() < deadline:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child only makes two system calls
            try:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.005)


# ---------------------------------------------------------------- verdicts


def limit_hit(log_text: str, exit_code: int | None, spec: Spec | None) -> tuple[str, str] | None:
    """(kind, message) if the service's log or exit says it hit one of the run's limits."""
    memory = spec.memory_mb if spec else DEFAULT_MEMORY_MB
    if "MemoryError" in log_text or "Cannot allocate memory" in log_text:
        return (
            "memory_limit",
            f"Your service used more than {_mb(memory)} of memory, the limit of a run, so "
            "its allocations failed (MemoryError). Does a request load or build something "
            "without bound (a whole table, an ever-growing list or cache)?",
        )
    if exit_code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        cpu = spec.cpu_s if spec else DEFAULT_CPU_S
        return (
            "cpu_limit",
            f"Your service used more than {cpu} s of CPU time, the limit of a run, so it "
            "was stopped. Is something looping without end?",
        )
    if "can't start new thread" in log_text or (
        "BlockingIOError: [Errno 11]" in log_text
        and ("fork" in log_text or "_execute_child" in log_text)
    ):
        procs = spec.processes if spec else DEFAULT_PROCESSES
        return (
            "process_limit",
            f"Your service tried to run more than {procs} processes and threads at once, "
            "the limit of a run, so starting more failed. Does something start a process "
            "or a thread per request without ever ending it?",
        )
    return None


def _mb(mb: int) -> str:
    return f"{mb // 1024} GB" if mb % 1024 == 0 else f"{mb} MB"


# ---------------------------------------------------------------- hidden checks' digest


def digest(*folders: Path) -> str:
    """A digest of every file under ``folders`` (names and bytes); caches, and the
    ``checks`` folder of the package (each run names its own lab's), left out."""
    import hashlib

    h = hashlib.sha256()
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__"
                                 and not (d == "checks" and dirpath == str(PACKAGE)))  # fmt: skip
            for name in sorted(filenames):
                if name.endswith(".pyc"):
                    continue
                path = Path(dirpath, name)
                h.update(f"{path.relative_to(folder).as_posix()}\0".encode())
                with contextlib.suppress(OSError):
                    h.update(path.read_bytes())
                h.update(b"\0")
    return h.hexdigest()


PACKAGE = Path(__file__).resolve().parent
