"""Numbers shared by the load-testing checks and their fixtures."""

#: The learner's locustfile: users, seconds. Fifty users make about 125 task runs in
#: 3 s, so that a step of weight 1 in 14 (or one that needs an earlier step, as
#: checking the stock of a book seen before) is all but sure to run: with 20 users,
#: one run in a few hundred missed two such steps and judged the journey too short.
RUN_USERS, RUN_S = 50, 3
