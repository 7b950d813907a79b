"""mitmproxy, a fault injector we did not write, agrees with lab 13's checks.

The resilience checks make their provider faults with our own sinks; a bug in a sink
could make a check agree with itself. benchmarks/resilience_verify.py replays four of
their scenarios with the providers behind ``mitmdump`` (reverse-proxy mode, a few-line
addon holding, delaying or answering the flows): a provider that never answers, two
503s then a success, a slow provider under 50 requests at once, a provider that is
down. Each must pass on the reference solution and fail on the starter exactly where
the check it mirrors fails (the lab's definition: the checks of its planted bugs).

mitmdump runs from a virtualenv of its own (.cache/mitmproxy, made on first use: no
release of mitmproxy can share the project's h11); see the benchmark's docstring.
"""

from __future__ import annotations

from benchmarks.resilience_verify import SCENARIOS, compare


def test_mitmproxy_agrees_with_the_checks_on_the_starter_and_the_solution():
    report = compare(run_checks=False)
    for scenario, check in SCENARIOS.items():
        for edition in ("solution", "starter"):
            got = report[edition]["mitmproxy"][scenario]
            expected = report[edition]["checks"][check]
            assert got["verdict"] == expected, (
                f"{scenario} on the {edition}: mitmproxy says {got['verdict']} "
                f"({got['detail']}); the check {check} says {expected}"
            )
    # The agreement means something only if both sides of it are there.
    assert {report["solution"]["checks"][c] for c in SCENARIOS.values()} == {"pass"}
    assert {report["starter"]["checks"][c] for c in SCENARIOS.values()} == {"fail"}
