-- The queues lab's template database: a small catalog, a year of sales, and orders.
CREATE TABLE book (
    id serial PRIMARY KEY,
    title text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0)
);

CREATE TABLE sale (
    id bigserial PRIMARY KEY,
    book_id integer NOT NULL REFERENCES book (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    sold_at timestamptz NOT NULL
);

CREATE TABLE customer_order (
    id serial PRIMARY KEY,
    customer_email text NOT NULL,
    book_id integer NOT NULL REFERENCES book (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmation_sent_at timestamptz
);

INSERT INTO book (title, price_cents)
SELECT 'Book ' || i, 499 + (i * 37) % 3000 FROM generate_series(1, 50) AS i;

INSERT INTO sale (book_id, quantity, sold_at)
SELECT 1 + (i * 7) % 50, 1 + i % 3, timestamptz '2026-01-01' + make_interval(secs => i * 1200)
FROM generate_series(1, 20000) AS i;

-- December 2025, the year's turn: a report must end its month on the next year's first
-- day. Its last sales come in the month's last hour, right before 2026's first.
INSERT INTO sale (book_id, quantity, sold_at)
SELECT 1 + (i * 11) % 50, 1 + i % 2, timestamptz '2026-01-01' - make_interval(secs => i * 1500)
FROM generate_series(1, 1500) AS i;
