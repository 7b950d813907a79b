-- The caching lab's template database: Folio's catalog and a year of sales.
-- Built once per machine (then cloned for every run), so the seed can be generous:
-- the statistics must be expensive enough that a cache visibly pays off.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

CREATE TABLE book (
    id serial PRIMARY KEY,
    title text NOT NULL,
    author text NOT NULL,
    genre text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0)
);

CREATE TABLE sale (
    id bigserial PRIMARY KEY,
    book_id integer NOT NULL REFERENCES book (id),
    customer_id integer NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    sold_at timestamptz NOT NULL
);

INSERT INTO book (title, author, genre, price_cents)
SELECT
    initcap((ARRAY['the', 'a', 'no', 'last', 'first', 'silent', 'hidden', 'red'])[1 + i % 8])
        || ' ' || (ARRAY['river', 'tower', 'garden', 'engine', 'letter', 'map', 'winter', 'city',
                         'voyage', 'machine', 'forest'])[1 + (i * 7) % 11]
        || ' ' || i,
    (ARRAY['Ada Byron', 'Kim Stanley', 'Mary Shelley', 'Ted Chiang', 'N. K. Jemisin',
           'Iain Banks', 'Ursula Le Guin', 'Octavia Butler', 'Jules Verne'])[1 + (i * 5) % 9],
    (ARRAY['fantasy', 'science-fiction', 'mystery', 'history', 'poetry', 'cooking'])[1 + i % 6],
    499 + (i * 37) % 3000
FROM generate_series(1, 600) AS i;

-- Skewed on purpose: a few books sell far more than the rest, so each genre has clear
-- bestsellers, and each customer leans towards a genre of their own (customer % 6).
-- setseed makes random() repeatable: every machine builds the same data.
SELECT setseed(0.42);
INSERT INTO sale (book_id, customer_id, quantity, sold_at)
SELECT
    CASE WHEN random() < 0.7
        THEN 6 * floor(100 * power(random(), 2))::int + 1 + (c.customer + 5) % 6
        ELSE 1 + floor(600 * power(random(), 2))::int
    END,
    c.customer,
    1 + i % 3,
    timestamptz '2026-01-01' + make_interval(secs => i * 61)
FROM generate_series(1, 400000) AS i,
     LATERAL (SELECT 1 + (i * 31) % 2000 AS customer) AS c;

CREATE INDEX sale_customer_id_idx ON sale (customer_id);
ANALYZE;
