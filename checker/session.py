"""One run's world: database, Redis, sidecars, the learner's service(s), and their end.

``Session`` is the one harness that owns everything a run starts (codecrafters'
``test_case_harness``): each resource registers its teardown the moment it exists, and
``close`` runs them in reverse, whatever happened (an error half-way, Ctrl-C). The
runner (``lab check``), the notebooks (``checker.notebook``) and the labs' public tests
(``checker.testing``) all provision through it, so a notebook's service sees exactly the
world a check's service sees::

    with Session(lab, workspace, state=state, run_dir=run_dir) as s:
        s.provision()                  # database, Redis, sidecars (they boot meanwhile)
        s.start_services(timeout=20)   # N instances (lab.toml ``instances``), healthy
        s.checks_env["LAB_SERVICE_URL"], s.services[0].log_path ...

The learner's processes and the per-run database are made in exactly two methods,
``_spawn_service`` and ``_create_database``: confinement (a sandbox) and per-run roles
plug in there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import process
from .errors import RunErrorKind, ServiceError, StartFailed
from .sidecars import Context, Sidecar, SidecarFailed, for_lab
from .zygote import Zygote
from .zygote import enabled as zygote_enabled

Emit = Callable[[str, Any], None]


def template_for(lab: Any) -> tuple[str, list[str]]:
    """The template database's name and the SQL that builds it (from the trusted checks)."""
    from .services.databases import TEMPLATE_PREFIX, fingerprint

    sql = [(lab.checks_path / rel).read_text(encoding="utf-8") for rel in lab.template_sql]
    return f"{TEMPLATE_PREFIX}{lab.checks_package}_{fingerprint(*sql)}", sql


def base_env(**extra: str) -> dict[str, str]:
    """The environment the run's children start from: the user's, minus what we set
    (no ``LAB_*``, and no DATABASE_URL/REDIS_URL of the user's own: the run's own win)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LAB_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", **extra)
    return env


def service_log_name(index: int) -> str:
    """``service.log`` for the first instance, ``service-2.log``... for the others."""
    return "service.log" if index == 0 else f"service-{index + 1}.log"


class Session:
    """Provision one run; close it in reverse. Not reusable once closed."""

    def __init__(
        self,
        lab: Any,
        workspace: Path,
        *,
        state: Path,
        run_dir: Path,
        emit: Emit | None = None,
        env: dict[str, str] | None = None,
        db_label: str | None = None,
        zygote: bool = True,
        without: frozenset[str] = frozenset(),
        sandbox: Any = None,
    ) -> None:
        self.lab, self.workspace, self.state, self.run_dir = lab, Path(workspace), state, run_dir
        self.run_dir.mkdir(parents=True, exist_ok=True)
        #: the run's ``checker.sandbox.Sandbox``: learner code (service, worker, migrations)
        #: runs confined, from the sandbox's copy of the workspace when it needs one
        self.sandbox = sandbox
        self.sandbox_env: dict[str, str] = {}
        if sandbox is not None:
            self.workspace = sandbox.code_dir(self.workspace)
            self.sandbox_env = sandbox.env()
        self.emit = emit or (lambda kind, payload: None)
        self.env = env if env is not None else base_env()
        self.db_label = db_label or (lab.id if lab is not None else "run")
        self.zygote = Zygote(state) if zygote and zygote_enabled() else None
        #: the fork server of our own processes (sidecars); the runner warms it up
        self.trusted_zygote = Zygote(state, trusted=True) if zygote and zygote_enabled() else None
        self.without = without  # sidecars (by key) a notebook leaves to the learner
        #: what the learner's service (and worker) get: DATABASE_URL, REDIS_URL, sinks...
        #: (``LAB_SANDBOX`` tells process.py how to confine them; it is removed before
        #: learner code sees the environment)
        self.service_env: dict[str, str] = {**self.env, **self.sandbox_env}
        #: what the hidden checks get on top: LAB_RUN_DATABASE_URL, LAB_SINKS...
        self.checks_env: dict[str, str] = {}
        # lab.toml [env]: the lab's configuration (a retry schedule, a provider's signing
        # secret), the same for the service, its worker and the checks that judge them
        lab_env = dict(getattr(lab, "env", ()) or ())
        self.service_env.update(lab_env)
        self.checks_env.update(lab_env)
        if self.sandbox_env:  # for learner code a check runs itself (sandbox.ForChecks)
            self.checks_env["LAB_LEARNER_SANDBOX"] = next(iter(self.sandbox_env.values()))
            self.checks_env["LAB_LEARNER_CODE"] = str(self.workspace)
        self.services: list[process.Service] = []
        self.sidecars: list[Sidecar] = []
        self.admin_url: str | None = None
        self.database_url: str | None = None
        self.redis_url: str | None = None
        self._teardowns: list[Callable[[], None]] = []
        self._providers = None
        if sandbox is not None:  # last of all: whatever learner code left running dies
            self.on_close(sandbox.close)

    # ------------------------------------------------------------ teardowns

    def on_close(self, fn: Callable[[], None]) -> None:
        """Register a teardown: ``close`` runs them last-registered first."""
        self._teardowns.append(fn)

    def close(self) -> None:
        """Run every teardown in reverse; each runs even if one before it failed (the
        first failure is raised once all have run)."""
        failure: BaseException | None = None
        while self._teardowns:
            fn = self._teardowns.pop()
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - every resource must be released
                failure = failure or exc
        if self.zygote is not None and any(not s.via_zygote for s in self.services):
            # Started the slow way: have a fork server ready for the next run (started
            # only now, so it never competes with this run for the CPU).
            self.zygote.start_in_background()
            self.zygote = None
        if failure is not None:
            raise failure

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ provisioning

    @property
    def providers(self):
        if self._providers is None:
            from .services import providers

            self._providers = providers(self.state)
        return self._providers

    def provision(self, migrate_log: Path | None = None) -> None:
        """The database and Redis the lab asks for, and its sidecars; their URLs land in
        ``service_env`` and ``checks_env``. Sidecars that need no URL start first, so they
        boot while the database is made."""
        wanted = [kind for kind in for_lab(self.lab) if kind.key not in self.without]
        started: dict[type[Sidecar], Sidecar] = {}
        for kind in wanted:
            if kind.early:
                started[kind] = self._start_sidecar(kind)
        services = set(self.lab.services)
        if "postgres" in services:
            self.database(migrate_log=migrate_log)
        if {"redis", "worker"} & services:
            self.redis()
        for kind in wanted:
            sidecar = started.get(kind) or self._start_sidecar(kind)
            if sidecar.phase:
                self.emit("phase", sidecar.phase)
            try:
                exports = sidecar.exports()
            except SidecarFailed as exc:
                raise ServiceError(exc.message, detail=exc.log_tail) from None
            self.service_env.update(exports.service)
            self.checks_env.update(exports.checks)

    def _start_sidecar(self, kind: type[Sidecar]) -> Sidecar:
        ctx = Context(self.lab, self.run_dir, self.workspace, dict(self.service_env),
                      zygote=self.trusted_zygote, learner_zygote=self.zygote)  # fmt: skip
        sidecar = kind(ctx)
        self.on_close(sidecar.stop)
        sidecar.start()
        self.sidecars.append(sidecar)
        return sidecar

    def database(self, migrate_log: Path | None = None) -> str:
        """A fresh database for this run, cloned from the lab's template (migrated by the
        workspace's own migrations when the lab has them); dropped at close."""
        from .migrations import migrated_template
        from .services.databases import drop_stale_runs, ensure_template, with_database

        self.emit("phase", "PostgreSQL")
        admin = self.admin_url = self.providers.postgres.ensure()
        drop_stale_runs(admin)
        name, sql = template_for(self.lab)
        ensure_template(admin, name, sql, on_progress=lambda m: self.emit("phase", m))
        if self.lab.migrations:  # the schema as the learner's migrations leave it
            name = migrated_template(
                admin, name, self.workspace, self.lab.migrations,
                {**self.env, **self.sandbox_env},
                migrate_log or self.run_dir / "migrations.log",
                lambda m: self.emit("phase", m),
            )  # fmt: skip
        db_name, url = self._create_database(admin, name)
        self.database_url = url
        self.service_env["DATABASE_URL"] = url
        # The service gets the run's own role; the checks observe as the admin.
        self.checks_env.update(LAB_RUN_DATABASE_URL=with_database(admin, db_name),
                               LAB_ADMIN_DATABASE_URL=admin)  # fmt: skip
        # The service's own role, for learner code a check runs itself as the service
        # would (lab 12 runs the learner's Alembic revisions mid-check).
        self.checks_env["LAB_SERVICE_DATABASE_URL"] = url
        return url

    def _create_database(self, admin: str, template: str) -> tuple[str, str]:
        """The one place a run's database and its role are made and dropped: (name, the
        run role's URL)."""
        from .services.databases import create_run_database, drop_database

        db_name, url = create_run_database(admin, template, self.db_label)
        self.on_close(lambda: drop_database(admin, db_name))
        if self.sandbox is not None:
            # Before the drop: learner processes still connected die first.
            self.on_close(self.sandbox.close)
        return db_name, url

    def redis(self) -> str:
        """An empty Redis database number of this run's own; flushed and freed at close."""
        from .services.redis_lease import RedisLease

        self.emit("phase", "Redis")
        redis = self.providers.redis
        lease = RedisLease(redis.ensure(), acl=getattr(redis, "acl_users", False))
        url = lease.acquire()  # the run's own ACL user, where the server has ACLs
        self.on_close(lease.release)
        self.redis_url = url
        self.service_env["REDIS_URL"] = url
        self.checks_env["LAB_RUN_REDIS_URL"] = lease.url
        return url

    # ------------------------------------------------------------ the learner's service

    @property
    def instances(self) -> int:
        return max(1, int(getattr(self.lab, "instances", 1) or 1))

    def _spawn_service(self, index: int) -> process.Service:
        """The one place the learner's service process is made."""
        log = self.run_dir / service_log_name(index)
        log.write_bytes(b"")
        return process.Service(self.lab.app, cwd=self.workspace, env=self.service_env,
                               log_path=log, zygote=self.zygote)  # fmt: skip

    def start_services(self, timeout: float) -> float:
        """Start ``instances`` copies of the service (one database, one Redis, each its
        own port), wait until each is healthy, then until every sidecar is ready (a
        worker listening). Returns the seconds the slowest took; raises StartFailed."""
        self.emit("phase", "starting your service")
        for i in range(self.instances):
            svc = self._spawn_service(i)
            self.on_close(svc.stop)
            self.services.append(svc)
            svc.start()
        took = max(self._wait_healthy(svc, timeout) for svc in self.services)
        for sidecar in self.sidecars:
            sidecar.wait_ready(timeout)
        urls = [svc.url for svc in self.services]
        self.checks_env["LAB_SERVICE_URL"] = urls[0]
        self.checks_env["LAB_SERVICE_URLS"] = ",".join(urls)
        self.checks_env["LAB_SERVICE_LOG"] = str(self.services[0].log_path)
        self.checks_env["LAB_SERVICE_LOGS"] = os.pathsep.join(
            str(s.log_path) for s in self.services
        )
        self.checks_env["LAB_SERVICE_PIDS"] = ",".join(str(s.process.pid) for s in self.services)
        return took

    def _wait_healthy(self, service: process.Service, timeout: float) -> float:
        for retries_left in (2, 1, 0):
            try:
                return service.wait_healthy(self.lab.health, timeout)
            except StartFailed:
                if not (retries_left and service.port_was_taken()):
                    raise
                # Another program took the free port we picked: pick another one.
                service.stop()
                service.log_path.write_bytes(b"")
                service.start()
        raise AssertionError("unreachable")

    @property
    def service(self) -> process.Service:
        """The first instance (the one ``base_url`` names)."""
        return self.services[0]

    def forked(self) -> bool:
        return bool(self.services) and all(s.via_zygote for s in self.services)

    def check_services(self) -> None:
        """While checks run: stop a flood of log; raises StartFailed (log_flood)."""
        for svc in self.services:
            svc.check_log_size()

    def crashed(self) -> StartFailed | None:
        """An instance that died while the checks ran, as a run error (one a check sent
        a signal to, ``checker.observe.service``, may have stopped: no crash)."""
        from .observe.service import signalled_pids

        signalled = signalled_pids(self.run_dir)
        for svc in self.services:
            if not svc.alive() and svc.process.pid not in signalled:
                return StartFailed(
                    RunErrorKind.SERVICE_CRASHED,
                    f"Your service stopped during the checks (exit code {svc.exit_code()}), "
                    "so the checks after that could not judge it. The log below shows why.",
                    process.tail(svc.log_path),
                )
        return None
