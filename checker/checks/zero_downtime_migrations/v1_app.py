"""Folio's released v1 of the customers service: the checker's own, never the learner's.

It is what production runs while the learner's v2 rolls out: it knows ``customers.name``
and nothing of ``full_name`` or ``orders.channel``, exactly as the code released before
the migration did. The checks run it beside the learner's v2, on the run's database,
while ``alembic upgrade expand`` runs: if a migration breaks it, real clients would
have seen the same errors.

Served by ``python -m uvicorn v1_app:app`` from this folder, with DATABASE_URL set. Every
connection says ``application_name = folio-v1``, so the lock sampler can tell its
backends from the learner's.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

_url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
# Every request waits at most 30 s for a lock: longer than any check's blocker, so a
# request stuck behind a migration is recorded as slow, never cut short by v1 itself.
engine = sa.create_engine(
    _url,
    pool_size=8,
    max_overflow=8,
    pool_pre_ping=False,
    connect_args={"application_name": "folio-v1", "options": "-c lock_timeout=30s"},
)
app = FastAPI(title="Folio v1 (released)")


class CustomerIn(BaseModel):
    email: str = Field(min_length=3, max_length=200)
    name: str = Field(min_length=1, max_length=200)


class CustomerPatch(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class OrderIn(BaseModel):
    customer_id: int
    total_cents: int = Field(ge=0, le=10_000_000)


def _customer(row) -> dict:
    return {"id": row.id, "email": row.email, "name": row.name}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/customers", status_code=201)
def create_customer(body: CustomerIn) -> dict:
    with engine.begin() as conn:
        row = conn.execute(
            sa.text(
                "INSERT INTO customers (email, name) VALUES (:e, :n) RETURNING id, email, name"
            ),
            {"e": body.email, "n": body.name},
        ).one()
    return _customer(row)


@app.get("/customers/{customer_id}")
def read_customer(customer_id: int) -> dict:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT id, email, name FROM customers WHERE id = :id"), {"id": customer_id}
        ).one_or_none()
    if row is None:
        raise HTTPException(404, "no such customer")
    return _customer(row)


@app.patch("/customers/{customer_id}")
def rename_customer(customer_id: int, body: CustomerPatch) -> dict:
    with engine.begin() as conn:
        row = conn.execute(
            sa.text("UPDATE customers SET name = :n WHERE id = :id RETURNING id, email, name"),
            {"n": body.name, "id": customer_id},
        ).one_or_none()
    if row is None:
        raise HTTPException(404, "no such customer")
    return _customer(row)


@app.post("/orders", status_code=201)
def create_order(body: OrderIn) -> dict:
    with engine.begin() as conn:
        row = conn.execute(
            sa.text(
                "INSERT INTO orders (customer_id, total_cents) VALUES (:c, :t)"
                " RETURNING id, customer_id, total_cents"
            ),
            {"c": body.customer_id, "t": body.total_cents},
        ).one()
    return {"id": row.id, "customer_id": row.customer_id, "total_cents": row.total_cents}
