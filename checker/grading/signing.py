"""The instructor's key and signed results.

Every result `lab grade` records is signed: HMAC-SHA256 over its canonical JSON (sorted
keys, no whitespace, UTF-8) with the instructor's secret key. The key is made on first
use and kept in the instructor's state folder (``.lab/instructor/`` of the course, or
``LAB_INSTRUCTOR_HOME``), never in git and never in the student edition. An export
(CSV) is signed by a sidecar ``FILE.sig`` over its exact bytes.

A learner can read a signed result but cannot change a score and keep the signature:
`lab verify` recomputes the HMAC and compares in constant time.

No learner process can read the key: learner code runs as another uid (checker/sandbox.py)
and the instructor's folder is 0700, the key 0600. The dashboard's secrets (instructor
password, student links, session cookies) come from a secret of their own
(``dashboard.secret``): whoever learns the dashboard password learns nothing that signs.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from ..errors import LabError
from ..paths import course_root, state_dir

ALG = "HMAC-SHA256"
KEY_FILE = "signing.key"
DASHBOARD_FILE = "dashboard.secret"


class VerifyError(LabError):
    """A result or export whose signature does not hold: exit 1 from `lab verify`."""

    exit_code = 1


def instructor_dir() -> Path:
    env = os.environ.get("LAB_INSTRUCTOR_HOME")
    path = Path(env).resolve() if env else state_dir(course_root()) / "instructor"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def load_key(create: bool = True) -> bytes:
    """The signing key (made on first use)."""
    return _load(KEY_FILE, create)


def load_dashboard_secret() -> bytes:
    """The dashboard's secret, apart from the signing key (made on first use)."""
    return _load(DASHBOARD_FILE, True)


def _load(name: str, create: bool) -> bytes:
    path = instructor_dir() / name
    if not path.exists():
        if not create:
            raise LabError(
                f"No instructor key at {path}: results can only be verified with the key "
                "that signed them (run `lab verify` where `lab grade` ran, or set "
                "LAB_INSTRUCTOR_HOME to that folder)."
            )
        # Written aside, then linked into place: a reader never sees a half-written key,
        # and of two processes making it at once, one wins and both read the same.
        tmp = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


def key_id(key: bytes) -> str:
    """A public name for the key (not the key): which key signed a result."""
    return hashlib.sha256(b"backend-lab key id:" + key).hexdigest()[:16]


def derived(key: bytes, purpose: str) -> bytes:
    """A secret for another use (dashboard password, session cookies) from the key."""
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()


def canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def sign(doc: dict[str, Any], key: bytes) -> dict[str, Any]:
    """``doc`` with a ``signature`` member over everything else in it."""
    body = {k: v for k, v in doc.items() if k != "signature"}
    return {**body, "signature": {"alg": ALG, "key_id": key_id(key),
                                  "value": _mac(key, canonical(body))}}  # fmt: skip


def check(doc: dict[str, Any], key: bytes) -> None:
    """Raises VerifyError unless ``doc`` carries a valid signature made with ``key``."""
    sig = doc.get("signature")
    if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
        raise VerifyError("Not signed: this result has no signature, so it proves nothing.")
    if sig.get("alg") != ALG:
        raise VerifyError(f"Unknown signature algorithm {sig.get('alg')!r} (expected {ALG}).")
    if sig.get("key_id") != key_id(key):
        raise VerifyError(
            "Signed with another key: this result was not made by this course's `lab grade`."
        )
    body = {k: v for k, v in doc.items() if k != "signature"}
    if not hmac.compare_digest(sig["value"], _mac(key, canonical(body))):
        raise VerifyError(
            "The signature does not match: this result was changed after it was signed."
        )


def sign_file(path: Path, key: bytes) -> Path:
    """Write ``path.sig``: a signed record of the file's name, size and bytes."""
    data = path.read_bytes()
    doc = sign({"file": path.name, "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}, key)  # fmt: skip
    sig = path.with_name(path.name + ".sig")
    sig.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return sig


def verify_path(path: Path, key: bytes) -> str:
    """Verify a signed result (JSON with a signature), a signed list of results, or a
    file with a ``.sig`` sidecar. Returns a one-line description of what was verified."""
    if not path.is_file():
        raise LabError(f"{path}: no such file.")
    sidecar = path.with_name(path.name + ".sig")
    if sidecar.is_file():
        try:
            doc = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError:
            raise VerifyError(f"{sidecar} is not valid JSON: it was damaged.") from None
        check(doc, key)
        data = path.read_bytes()
        if doc.get("bytes") != len(data) or doc.get("sha256") != hashlib.sha256(data).hexdigest():
            raise VerifyError(f"{path.name} was changed after it was signed (see {sidecar.name}).")
        return f"{path.name}: genuine export ({len(data)} bytes, signed by key {doc['signature']['key_id']})"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise VerifyError(
            f"{path.name} is neither a signed JSON result nor a file with a .sig beside it."
        ) from None
    docs = doc if isinstance(doc, list) else [doc]
    for i, d in enumerate(docs):
        if not isinstance(d, dict):
            raise VerifyError(f"{path.name}: item {i} is not a result.")
        try:
            check(d, key)
        except VerifyError as exc:
            who = f" ({d.get('student')}, {d.get('lab')})" if d.get("student") else ""
            raise VerifyError(f"{path.name}{who}: {exc.message}") from None
    if isinstance(doc, list):
        return f"{path.name}: {len(docs)} genuine results"
    return (f"{path.name}: genuine result: {doc.get('student', '?')} · lab {doc.get('lab')} · "
            f"{doc.get('score')}/{doc.get('max_score')} {doc.get('status')}")  # fmt: skip
