"""Downloads never leave their folder (CWE-22)."""

import secrets
from pathlib import Path
from urllib.parse import quote

from _helpers import code_dir, raw_get, word

from checker.verdict import fail


def own_file(code: Path, rng) -> Path | None:
    """One of the service's own files outside its downloads folder (its code, the staff
    files), big enough that its bytes can't turn up in an answer by chance."""
    found = [
        p for p in sorted(code.glob("app/**/*.py")) + sorted(code.glob("files_private/*"))
        if "__pycache__" not in p.parts and p.is_file() and p.stat().st_size >= 64
    ]  # fmt: skip
    return rng.choice(found) if found else None


def test_downloads_stay_in_folder(base_url, workspace, rng):
    code = code_dir(workspace)
    base = code / "files"
    made = []

    def plant(path, text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
        made.append(path)

    try:
        inside = f"ebooks/{word(rng)}.txt"
        plant(base / inside, f"an e-book {secrets.token_hex(8)}")
        up = f"{word(rng)}.txt"
        up_secret = f"secret {secrets.token_hex(12)}"
        plant(code / up, up_secret)
        private = f"{word(rng)}.{rng.choice(['txt', 'csv', 'pdf'])}"
        private_secret = f"staff only {secrets.token_hex(12)}"
        plant(code / "files_private" / private, private_secret)
        absolute = str((code / "files_private" / private).resolve())

        status, body = raw_get(base_url, f"/downloads/{inside}")
        if status != 200 or body.decode(errors="replace") != (base / inside).read_text():
            fail("file-missing", f"GET /downloads/{inside} (a file in the downloads folder) "
                                 f"answered {status}; expected 200 with its content.")  # fmt: skip
        names = [
            f"../{up}", f"..%2f{up}", f"%2e%2e/{up}", f"%2e%2e%2f{up}", f"....//{up}",
            f"ebooks/../../{up}", f"ebooks/....//....//{up}", f"..%2F..%2F{code.name}/{up}",
            f"../files_private/{private}", f"....//files_private/{private}",
            f"..%2ffiles_private%2f{private}", f"%2e%2e/files_private/{private}",
            f"/{absolute.lstrip('/')}", quote(absolute, safe=""),
            f"/{str((code / up).resolve()).lstrip('/')}", quote(str((code / up).resolve()), safe=""),
        ]  # fmt: skip
        # A file that was there before the run began, chosen at random: a service that
        # tells the planted files from its own (by when they appeared, by their names)
        # must still keep its own code and staff files in.
        own = own_file(code, rng)
        if own is not None:
            rel, real = own.relative_to(code).as_posix(), own.read_bytes()
            names += [f"../{rel}", "..%2f" + quote(rel, safe=""), f"....//{rel}",
                      f"%2e%2e/{rel}", quote(str(own.resolve()), safe="")]  # fmt: skip
        for name in names:
            status, body = raw_get(base_url, f"/downloads/{name}")
            if own is not None and status < 300 and real in body:
                fail("escaped", f"GET /downloads/{name} answered {status} with {rel}, a file "
                                "of your service's folder outside the downloads folder; "
                                "expected 404: only files inside the downloads folder are "
                                "served.")  # fmt: skip
            text = body.decode(errors="replace")
            if up_secret in text or private_secret in text:
                where = (
                    "the files_private/ folder beside it"
                    if private_secret in text
                    else "its parent folder"
                )
                fail("escaped", f"GET /downloads/{name} answered {status} with a file from "
                                f"{where}; expected 404: only files inside the downloads folder "
                                "are served.")  # fmt: skip
            if status >= 500:
                fail("server-error", f"GET /downloads/{name} answered {status}; expected 404.")
    finally:
        for path in made:
            path.unlink(missing_ok=True)
