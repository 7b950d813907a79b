"""What hidden checks read from outside the service: PostgreSQL, Redis, RQ, sinks, load."""
