"""Passwords, session tokens, and the security headers every answer should carry."""

import hashlib
import hmac
import secrets

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def secure(response: Response, *, private: bool = False) -> Response:
    """Adds the security headers (and, for an answer about a signed-in user,
    Cache-Control: no-store) to a route's response."""
    response.headers.update(SECURITY_HEADERS)
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


# The interactive docs load scripts and styles: they keep a page's usual rights.
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    """Every answer gets the security headers, whoever made it: a route, a 404 from
    routing, a 422 from validation, a 401 from a dependency (a 500 is made outside all
    middleware: see the Exception handler). An answer to a request that carries a
    session (cookie or bearer token) is private: Cache-Control: no-store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        signed_in = "authorization" in request_headers or "session=" in request_headers.get(
            "cookie", ""
        )
        docs = scope["path"].startswith(DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if not (docs and name == "Content-Security-Policy"):
                        headers[name] = value
                if signed_in:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
