"""Made-up people for the hidden checks: emails, passwords and names as varied as a real
shop's customers, drawn per run, so no value marks what a check creates.

A check that registers every account with one fixed password (or one email domain, or
an email that starts with the check's name) lets a service special-case that marker: hash
that one password properly, lock out only those accounts, and stay broken for everyone
else. Nothing here repeats from run to run, and every shape here is one real users have.

``People(rng)`` draws from ``rng`` (a check's ``rng`` fixture, or a ``random.Random``
seeded from the run's seed); the draws are thread-safe, and an email is never drawn twice
by the same ``People``.
"""

from __future__ import annotations

import random
import string
import threading

FIRST = (
    "amira", "ben", "carla", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jonas",
    "kemi", "lars", "maya", "nikos", "olga", "pablo", "quinn", "rosa", "sami", "tara",
    "uma", "victor", "wen", "ximena", "yusuf", "zoe", "aiko", "bruno", "chloe", "diego",
)  # fmt: skip
LAST = (
    "adeyemi", "bauer", "costa", "dubois", "eriksen", "fischer", "garcia", "haddad",
    "ivanova", "jensen", "kowalski", "larsen", "moreau", "nakamura", "okafor", "petrov",
    "quispe", "rossi", "silva", "tanaka", "urban", "varga", "wong", "yilmaz", "zhang",
)  # fmt: skip
DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de",
    "hotmail.co.uk", "fastmail.com", "web.de", "orange.fr", "libero.it", "uni-bonn.de",
    "mail.ru", "posteo.net", "example.org",
)  # fmt: skip
WORDS = (
    "maple", "river", "orbit", "velvet", "copper", "lantern", "meadow", "harbor", "pixel",
    "thunder", "saffron", "glacier", "pepper", "willow", "falcon", "cobalt", "ember",
    "tundra", "quartz", "biscuit", "nebula", "cactus", "marble", "sparrow",
)  # fmt: skip
SYMBOLS = "!?#$%&*@-_."


class People:
    """Varied emails and passwords, drawn from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._lock = threading.Lock()
        self._emails: set[str] = set()

    def email(self) -> str:
        """A new address, in one of the shapes real addresses have."""
        with self._lock:
            while True:
                r = self.rng
                first, last = r.choice(FIRST), r.choice(LAST)
                number = str(r.randint(1, 9999))
                local = r.choice((
                    f"{first}.{last}", f"{first}{last}{number}", f"{first[0]}{last}",
                    f"{first}_{last}{number[:2]}", f"{last}.{first}{number}",
                    f"{first}{number}", f"{first}.{last}+{r.choice(WORDS)}",
                ))  # fmt: skip
                email = f"{local}@{r.choice(DOMAINS)}"
                if email not in self._emails:
                    self._emails.add(email)
                    return email

    def password(self) -> str:
        """A password of 10 to 40 characters, in one of the shapes people choose: a
        passphrase, a word with a year and a symbol, a password manager's random string."""
        with self._lock:
            r = self.rng
            shape = r.randrange(3)
            if shape == 0:
                words = r.sample(WORDS, r.randint(3, 5))
                return r.choice(" -_.").join(words)
            if shape == 1:
                word = r.choice(WORDS).capitalize() + r.choice(WORDS)
                return f"{word}{r.randint(1950, 2026)}{r.choice(SYMBOLS)}"
            alphabet = string.ascii_letters + string.digits + SYMBOLS
            return "".join(r.choice(alphabet) for _ in range(r.randint(14, 28)))

    def wrong_password(self, right: str) -> str:
        """A password that is not ``right``: another one, or ``right`` mistyped."""
        with self._lock:
            mistyped = self.rng.random() < 0.5
        if mistyped:
            with self._lock:
                i = self.rng.randrange(len(right))
                other = self.rng.choice([c for c in string.ascii_letters if c != right[i]])
            return right[:i] + other + right[i + 1 :]
        while (guess := self.password()) == right:
            pass
        return guess
