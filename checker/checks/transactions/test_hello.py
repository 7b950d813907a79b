"""Hidden checks of lab transactions: one test (or several, marked with
``@pytest.mark.check("<id>")``) per check of its lab.toml. They see the service only
from outside (the ``http`` fixture) and say expected versus actual in the learner's terms."""


def test_health_answers(http):
    r = http.get("/health")
    assert r.status_code == 200, f"GET /health answered {r.status_code}; expected 200 OK."


def test_hello_answers_200(http):
    r = http.get("/hello")
    assert r.status_code == 200, f"GET /hello answered {r.status_code}; expected 200 OK."
    assert r.json().get("message"), "GET /hello answered 200 but with no greeting in 'message'."
