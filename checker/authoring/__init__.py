"""Tools for course authors: `lab new` (scaffold a lab from ``template/``) and
`lab dev check` (the fast, static part of the self-verification).

Boundaries: these read and write the course's files only; they start no service and
no server (the full self-verification, tests/test_selfcheck.py, runs the checks).
"""
