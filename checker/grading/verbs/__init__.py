"""The instructor's verbs: one module per command, each with a ``register(app)``
(as the learner's verbs live in ``checker.verbs``)."""

from . import dashboard, grade, gradebook, release, verify, worker

#: In the order `lab --help` lists them.
MODULES = (release, grade, worker, gradebook, verify, dashboard)
