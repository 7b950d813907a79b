"""Backend Lab's checker: the package behind the `lab` command.

Boundaries (see DESIGN.md): the checker never imports learner code, it runs it as a
process and observes it from outside; ``services/`` knows nothing of labs; hidden checks
live in ``checks/<lab>/`` and run in a pytest process of their own with only
``pytest_plugin`` loaded. Errors the user can act on are in ``errors.py``.

Entry points: ``cli`` (the command), ``runner.run`` (one run), ``notebook.open_lab``
(the notebooks' API), ``testing.fresh_database`` (the labs' public tests); all three
provision through ``session.Session`` (database, Redis, ``sidecars/``, the service).
``observe/`` imports nothing of the engine but ``errors``.
"""


def __getattr__(name: str) -> str:
    # Lazy: importing checker stays cheap (every check run imports it).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("backend-lab")
        except PackageNotFoundError:  # pragma: no cover - a bare checkout
            return "0+unknown"
    raise AttributeError(name)
