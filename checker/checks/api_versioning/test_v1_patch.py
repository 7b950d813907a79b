"""v1 and v2 share the rows: a v1 PATCH keeps what only v2 knows, and a book made in
v2 reads correctly in v1."""

import pytest
from _helpers import create_v2, said, shown, title, v2_book

from checker.verdict import expect


def _number(value) -> float:
    """v1's price as a number (its JSON type is the replay's business, not this check's)."""
    if isinstance(value, dict):
        value = value.get("amount")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


@pytest.mark.check("v1_patch_keeps_v2_fields")
def test_v1_patch_keeps_v2_fields(http, rng):
    patches = [
        {"title": title(rng)},
        {"price": round(rng.randint(100, 9000) / 100, 2)},
        {"format": rng.choice(["hardcover", "paperback", "ebook"])},
        {"title": title(rng), "price": float(rng.randint(1, 60))},
    ]
    for patch in rng.sample(patches, 3):
        body = v2_book(rng)
        book = create_v2(http, body)
        path = f"/v1/books/{book['id']}"
        v1 = http.get(path)
        expect(
            v1.status_code == 200,
            "unreadable",
            f"GET {path} of a book made through v2 answered {said(v1)}; expected 200",
        )
        got = v1.json()
        expect(got.get("title") == body["title"] and str(got.get("author", "")).startswith(body["authors"][0])
               and abs(_number(got.get("price")) - float(body["price"]["amount"])) < 0.005,
               "v1-reads-wrong",
               f"GET {path} of a book made through v2 as {body} answered {shown(v1)}; expected its title, its first author and price {float(body['price']['amount'])}")  # fmt: skip
        r = http.patch(path, json=patch)
        expect(
            r.status_code == 200,
            "v1-patch-refused",
            f"PATCH {path} {patch} answered {said(r)} ({shown(r)}); expected 200",
        )
        after = http.get(f"/v2/books/{book['id']}").json()
        kept = {
            "subtitle": (after.get("subtitle"), body["subtitle"]),
            "authors": (after.get("authors"), body["authors"]),
            "currency": ((after.get("price") or {}).get("currency"), body["price"]["currency"]),
        }
        lost = {k: v for k, v in kept.items() if v[0] != v[1]}
        expect(not lost, "v2-fields-reset",
               f"After PATCH {path} {patch}, v2 reads " + ", ".join(f"{k}={a!r} (was {b!r})" for k, (a, b) in lost.items())
               + ": a v1 PATCH changed what v1 can't even see")  # fmt: skip
        for key, value in patch.items():
            if key == "price":
                expect(abs(float(after["price"]["amount"]) - value) < 0.005, "v1-patch-lost",
                       f"After PATCH {path} {patch}, v2 reads price {after.get('price')}; expected amount {value:.2f}")  # fmt: skip
            else:
                expect(after.get(key) == value, "v1-patch-lost",
                       f"After PATCH {path} {patch}, v2 reads {key}={after.get(key)!r}; expected {value!r}")  # fmt: skip
