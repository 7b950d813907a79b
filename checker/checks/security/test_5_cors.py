"""Only the storefront's origin may read answers with credentials (WHATWG Fetch, CORS)."""

from _helpers import STOREFRONT, auth, make_user

from checker.verdict import fail

ALWAYS = ("null", "https://evil.example", "https://shop.folio.test.evil.example",
          "https://evilshop.folio.test")  # fmt: skip
MORE = ("http://shop.folio.test", "https://shop.folio.test:8443", "https://folio.test",
        "https://www.shop.folio.test", "https://shop-folio.test", "https://shop.folio.testx")  # fmt: skip


def _vary(response) -> list[str]:
    return [v.strip().lower() for v in ",".join(response.headers.get_list("vary")).split(",")]


def _preflight(http, origin: str):
    return http.options("/me", headers={"Origin": origin, "Access-Control-Request-Method": "PATCH",
                                        "Access-Control-Request-Headers": "content-type"})  # fmt: skip


def test_cors_storefront_only(http, db, rng):
    _, _, token = make_user(db, rng)
    cookie = {"Cookie": f"session={token}"}
    r = http.get("/me", headers={"Origin": STOREFRONT, **cookie})
    p = _preflight(http, STOREFRONT)
    for what, answer in (("GET /me", r), ("A preflight for PATCH /me", p)):
        acao = answer.headers.get("access-control-allow-origin")
        acac = answer.headers.get("access-control-allow-credentials")
        if acao != STOREFRONT or acac != "true":
            fail("storefront-refused",
                 f"{what} from {STOREFRONT} got Access-Control-Allow-Origin: {acao} and "
                 f"Access-Control-Allow-Credentials: {acac}; expected {STOREFRONT} and true.")  # fmt: skip
    if "origin" not in _vary(r):
        fail("storefront-refused", f"GET /me from {STOREFRONT} answered Vary: "
                                   f"{r.headers.get('vary')}; expected Vary to include Origin, so "
                                   "a cache never gives one origin's answer to another.")  # fmt: skip
    for origin in [*ALWAYS, *rng.sample(MORE, 3)]:
        for what, answer in (
            (
                "GET /me with the session cookie",
                http.get("/me", headers={"Origin": origin, **cookie}),
            ),
            (
                "GET /books/search",
                http.get("/books/search", headers={"Origin": origin, **auth(token)}),
            ),
            ("A preflight for PATCH /me", _preflight(http, origin)),
        ):
            acao = answer.headers.get("access-control-allow-origin")
            if acao is not None:
                fail("other-origin-allowed",
                     f"{what} from Origin: {origin} got Access-Control-Allow-Origin: {acao}; "
                     f"expected none: only {STOREFRONT} may read answers.")  # fmt: skip
