"""The instructor side: release a student edition, grade a class (locally or over RQ
workers), the gradebook, signed results, the dashboard. Left out of the student edition."""
