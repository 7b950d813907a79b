-- Folio's customers and orders as v1 left them: 100,000 customers, 1,000,000 orders.
-- Deterministic (multiplicative hashes, no random()): every run and every version of
-- PostgreSQL sees the same rows. This is the schema at revision 0001 (the released v1);
-- the learner's revisions expand and contract run on top of it, during the checks.
CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    total_cents INTEGER NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL PRIMARY KEY
);
INSERT INTO alembic_version VALUES ('0001');

-- step: customers 1-100,000
INSERT INTO customers (email, name, created_at)
SELECT 'reader.' || g || '@example.com',
       (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Donald', 'Frances'])[1 + g % 8]
           || ' ' || (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Knuth', 'Allen'])[1 + (g * 7) % 8]
           || ' ' || g,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '60 seconds'
FROM generate_series(1::bigint, 100000) AS g;

-- step: orders 1-500,000
INSERT INTO orders (customer_id, total_cents, created_at)
SELECT 1 + (g * 2654435761) % 100000,
       500 + (g * 104729) % 20000,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '15 seconds'
FROM generate_series(1::bigint, 500000) AS g;

-- step: orders 500,001-1,000,000
INSERT INTO orders (customer_id, total_cents, created_at)
SELECT 1 + (g * 2654435761) % 100000,
       500 + (g * 104729) % 20000,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '15 seconds'
FROM generate_series(500001::bigint, 1000000) AS g;

-- step: statistics
SELECT setval('customers_id_seq', (SELECT max(id) FROM customers));
SELECT setval('orders_id_seq', (SELECT max(id) FROM orders));
ANALYZE customers;
ANALYZE orders;
