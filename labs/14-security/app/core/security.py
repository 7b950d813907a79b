"""Passwords, session tokens, and the security headers every answer should carry."""

import hashlib
import hmac
import secrets

from starlette.responses import Response

# OWASP REST Security cheat sheet, "Security headers" (an API answers data, never a page):
SECURITY_HEADERS = {
    # Never guess a type: a JSON answer or an uploaded file is not run as HTML or script.
    "X-Content-Type-Options": "nosniff",
    # Nothing may load from an answer, and no page may frame it (clickjacking).
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    # Browsers use HTTPS only for this host, for a year (RFC 6797).
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(got.hex(), digest)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# TODO: only the routes that remember to call this get the headers: a 404, a 422, a 401
# or a 500 goes out without them.
def secure(response: Response, *, private: bool = False) -> Response:
    """Adds the security headers (and, for an answer about a signed-in user,
    Cache-Control: no-store) to a route's response."""
    response.headers.update(SECURITY_HEADERS)
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response
