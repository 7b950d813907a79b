"""Object-level authorization (OWASP API1:2023): one user's review is not another's."""

from _helpers import fail, json_of, said

from checker.verdict import expect

SECRET = "Draft: I have not finished it, but it is a masterpiece."


def _row(db, review_id):
    with db.cursor() as cur:
        cur.execute("SELECT rating, body FROM reviews WHERE id = %s", [review_id])
        return cur.fetchone()


def test_reviews_owner_only(http, alice, bob, db, rng):
    created = http.post(
        "/reviews", json={"book_title": "Piranesi", "rating": 5, "body": SECRET},
        headers=alice.headers,
    )  # fmt: skip
    if created.status_code != 201:
        fail(f"POST /reviews answered {said(created)}; expected 201 with the new review.")
    review_id = json_of(created)["id"]
    url = f"/reviews/{review_id}"
    before = _row(db, review_id)

    attempts = [
        ("read", http.get(url, headers=bob.headers)),
        ("change", http.patch(url, json={"rating": 1, "body": "pwned"}, headers=bob.headers)),
        ("delete", http.delete(url, headers=bob.headers)),
    ]
    for verb, response in attempts:
        assert response.status_code in (403, 404), (
            f"Another logged-in user tried to {verb} this user's review ({response.request.method} "
            f"{url}) and got {said(response)}; expected 403 or 404. Any account can "
            f"{verb} anyone's reviews by counting through ids."
        )
        assert SECRET not in response.text, (
            f"The answer to another user's {response.request.method} {url} shows the "
            "review's text; expected nothing of it."
        )
    after = _row(db, review_id)
    assert after == before, (
        f"After another user's PATCH and DELETE of {url} were refused, the review's row is "
        f"{after!r} instead of {before!r}; a refusal must leave it untouched."
    )
    mine = http.get(url, headers=alice.headers)
    assert mine.status_code == 200, (
        f"GET {url} by the review's own author answered {said(mine)}; expected 200 OK."
    )

    # Write, then re-read: with two reviews of her own, each id reads back its own review.
    body = f"Second thoughts, take {rng.randint(2, 999)}."
    second = http.post(
        "/reviews", json={"book_title": "Jonathan Strange", "rating": rng.randint(1, 5),
                          "body": body},
        headers=alice.headers,
    )  # fmt: skip
    if second.status_code != 201:
        fail(f"POST /reviews answered {said(second)}; expected 201 with the new review.")
    second_id = json_of(second)["id"]
    for rid, text in ((review_id, SECRET), (second_id, body)):
        got = http.get(f"/reviews/{rid}", headers=alice.headers)
        review = json_of(got) if got.status_code == 200 else None
        expect(
            isinstance(review, dict) and review.get("id") == rid and review.get("body") == text,
            "wrong-review",
            f"GET /reviews/{rid} by its author, who has two reviews, answered {said(got)} "
            f"with {str(review)[:160] if review is not None else 'no review'}; expected "
            f"review {rid} itself (body {text!r}). Look the review up by its id and its "
            "owner, both.",
        )
