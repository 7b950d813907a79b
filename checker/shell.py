"""What the learner types and sees in their shell: commands spelled so they work as
typed, the install command for a missing extra, output sized for a terminal or a pipe.

The core install (``pip install -e .``) is what ``lab check`` needs for every lab.
Notebooks, the docs site, Docker, the instructor side and the project's own tooling are
extras (pyproject.toml); a command that needs one says exactly what to install.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from rich.console import Console

from .errors import UsageError

#: The extra that brings each optional top-level module (pyproject.toml's extras).
EXTRA_OF_MODULE = {
    "jupyterlab": "notebooks",
    "jupyter_server": "notebooks",
    "ipywidgets": "notebooks",
    "ipykernel": "notebooks",
    "IPython": "notebooks",
    "nbclient": "notebooks",
    "nbformat": "notebooks",
    "matplotlib": "notebooks",
    "mkdocs": "docs",
    "material": "docs",
    "testcontainers": "docker",
    "docker": "docker",
    "jinja2": "instructor",
}
#: What each extra is for, in the words of the message that asks for it.
EXTRA_PURPOSE = {
    "notebooks": "JupyterLab and the notebooks' widgets",
    "docs": "the course site (mkdocs-material)",
    "docker": "PostgreSQL and Redis in Docker containers (testcontainers)",
    "instructor": "the instructor's commands",
}


class MissingExtra(UsageError):
    """A command needs an optional part of Backend Lab that is not installed (exit 3)."""

    def __init__(self, extra: str, command: str, module: str = "") -> None:
        purpose = EXTRA_PURPOSE.get(extra, extra)
        missing = f" ({module} is not installed)" if module else ""
        super().__init__(
            f"{command} needs the {extra!r} extra: {purpose}{missing}. Install it with:\n"
            f"  {pip_install(extra)}"
        )
        self.extra = extra


def _here(path: Path) -> str:
    """``path`` as the user would type it from the current folder."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def pip_install(extra: str) -> str:
    """The exact command that adds ``extra`` to the environment running this `lab`."""
    from .paths import PACKAGE_DIR

    pip = Path(sys.executable).parent / "pip"
    pip_cmd = _here(pip) if pip.exists() else f"{_here(Path(sys.executable))} -m pip"
    source = _here(PACKAGE_DIR.parent)
    target = f".[{extra}]" if source == "." else f"{source}[{extra}]"
    return f'{pip_cmd} install -q -e "{target}"'


def require(extra: str, command: str, *modules: str) -> None:
    """Raise MissingExtra unless every module of ``modules`` can be imported."""
    import importlib.util

    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingExtra(extra, command, module)


def missing_extra(exc: ModuleNotFoundError, command: str = "This command") -> MissingExtra | None:
    """The MissingExtra an import failure means, if the module belongs to an extra."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    return MissingExtra(extra, command, top) if extra else None


def lab_command(args: str) -> str:
    """``lab ARGS`` spelled so that it works in the shell that started this process: plain
    ``lab`` when that finds this very program, else the path to it (``.venv/bin/lab``)."""
    ours = Path(sys.executable).parent / "lab"
    found = shutil.which("lab")
    if found and ours.exists():
        try:
            if Path(found).resolve() == ours.resolve():
                return f"lab {args}"
        except OSError:
            pass
    elif found and not ours.exists():
        return f"lab {args}"
    if not ours.exists():  # python -m checker, without an installed script
        return f"{_here(Path(sys.executable))} -m checker {args}"
    return f"{_here(ours)} {args}"


def make_console(*, stderr: bool = False) -> Console:
    """A console for a terminal, or for a pipe or file: there, no colours, no padding to
    the width and no wrapping of long lines (a log or a grep reads whole lines)."""
    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    if tty or os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=_pipe_width())


def _pipe_width() -> int:
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 100


def print_table(console: Console, table) -> None:
    """A rich Table; into a pipe or file, without the spaces that pad its last column."""
    if not console.soft_wrap:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    out = "\n".join(line.rstrip() for line in captured.get().splitlines())
    console.file.write(out + "\n")
