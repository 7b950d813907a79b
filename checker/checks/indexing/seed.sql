-- Folio's order history at scale: 50 000 customers, 1 000 000 orders.
-- Deterministic (a multiplicative hash, no random()): every run and every version of
-- PostgreSQL sees the same data, so the checks can name customers and compare exactly.
-- Skewed like a real shop: a few customers have thousands of orders, most have a few;
-- most orders are delivered, few are pending.
-- This is the starter's schema; the learner's Alembic migrations run on top of it.
CREATE TABLE customer (
    id SERIAL PRIMARY KEY,
    email VARCHAR NOT NULL,
    name VARCHAR NOT NULL
);
CREATE UNIQUE INDEX ix_customer_email ON customer (email);

CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    status VARCHAR NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    total_cents INTEGER NOT NULL
);

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL PRIMARY KEY
);
INSERT INTO alembic_version VALUES ('0001');

-- step: customers
INSERT INTO customer (email, name)
SELECT CASE WHEN g % 7 = 0 THEN 'Reader.' || g || '@Example.com'
            ELSE 'reader.' || g || '@example.com' END,
       'Reader ' || g
FROM generate_series(1::bigint, 50000) AS g;

-- step: orders 1-250k
INSERT INTO orders (customer_id, status, created_at, total_cents)
SELECT 1 + floor(50000 * power(((g * 2654435761) % 4294967296) / 4294967296.0, 3))::int,
       CASE WHEN (g * 7919) % 100 < 70 THEN 'delivered'
            WHEN (g * 7919) % 100 < 85 THEN 'shipped'
            WHEN (g * 7919) % 100 < 95 THEN 'pending'
            ELSE 'cancelled' END,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '90 seconds',
       500 + (g * 104729) % 20000
FROM generate_series(1::bigint, 250000) AS g;

-- step: orders 250k-500k
INSERT INTO orders (customer_id, status, created_at, total_cents)
SELECT 1 + floor(50000 * power(((g * 2654435761) % 4294967296) / 4294967296.0, 3))::int,
       CASE WHEN (g * 7919) % 100 < 70 THEN 'delivered'
            WHEN (g * 7919) % 100 < 85 THEN 'shipped'
            WHEN (g * 7919) % 100 < 95 THEN 'pending'
            ELSE 'cancelled' END,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '90 seconds',
       500 + (g * 104729) % 20000
FROM generate_series(250001::bigint, 500000) AS g;

-- step: orders 500k-750k
INSERT INTO orders (customer_id, status, created_at, total_cents)
SELECT 1 + floor(50000 * power(((g * 2654435761) % 4294967296) / 4294967296.0, 3))::int,
       CASE WHEN (g * 7919) % 100 < 70 THEN 'delivered'
            WHEN (g * 7919) % 100 < 85 THEN 'shipped'
            WHEN (g * 7919) % 100 < 95 THEN 'pending'
            ELSE 'cancelled' END,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '90 seconds',
       500 + (g * 104729) % 20000
FROM generate_series(500001::bigint, 750000) AS g;

-- step: orders 750k-1M
INSERT INTO orders (customer_id, status, created_at, total_cents)
SELECT 1 + floor(50000 * power(((g * 2654435761) % 4294967296) / 4294967296.0, 3))::int,
       CASE WHEN (g * 7919) % 100 < 70 THEN 'delivered'
            WHEN (g * 7919) % 100 < 85 THEN 'shipped'
            WHEN (g * 7919) % 100 < 95 THEN 'pending'
            ELSE 'cancelled' END,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '90 seconds',
       500 + (g * 104729) % 20000
FROM generate_series(750001::bigint, 1000000) AS g;

-- step: the starter's indexes (built after the rows, which is faster)
CREATE INDEX ix_orders_status ON orders (status);
CREATE INDEX orders_status_idx ON orders (status);

-- step: statistics
-- VACUUM also fills the visibility map, so index-only scans are possible.
VACUUM ANALYZE;
