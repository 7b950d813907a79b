-- Folio's authors page: 300 authors, 0 to 6 books each, 0 to 10 reviews per book;
-- and 100 orders of 0 to 40 items.
-- Deterministic (no random()): every run, and every version of PostgreSQL, sees the
-- same catalog, so the checks can compare against exact answers.
CREATE TABLE author (
    id SERIAL PRIMARY KEY,
    name VARCHAR NOT NULL
);
CREATE TABLE book (
    id SERIAL PRIMARY KEY,
    title VARCHAR NOT NULL,
    author_id INTEGER NOT NULL REFERENCES author (id)
);
CREATE INDEX ix_book_author_id ON book (author_id);
CREATE TABLE review (
    id SERIAL PRIMARY KEY,
    book_id INTEGER NOT NULL REFERENCES book (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5)
);
CREATE INDEX ix_review_book_id ON review (book_id);

INSERT INTO author (name)
SELECT (ARRAY['Ursula', 'Octavia', 'Italo', 'Wisława', 'Chinua', 'Clarice', 'Haruki',
              'Toni', 'Jorge', 'Nnedi'])[1 + g % 10]
       || ' ' || (ARRAY['Le Guin', 'Butler', 'Calvino', 'Szymborska', 'Achebe',
                        'Lispector', 'Murakami', 'Morrison', 'Borges', 'Okorafor'])[1 + (g / 10) % 10]
       || ' ' || g
FROM generate_series(1, 300) AS g;

INSERT INTO book (title, author_id)
SELECT 'Volume ' || k || ' by author ' || a, a
FROM generate_series(1, 300) AS a, generate_series(1, 6) AS k
WHERE k <= a % 7
ORDER BY a, k;

INSERT INTO review (book_id, rating)
SELECT b.id, 1 + (b.id * 7 + r * 3) % 5
FROM book AS b, generate_series(1, 10) AS r
WHERE r <= (b.id * 3) % 11
ORDER BY b.id, r;


-- Orders: 100 of them; order n has n % 41 items (order 3 has 3, order 30 has 30), each
-- item a different book.
CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    placed_by VARCHAR NOT NULL
);
CREATE TABLE order_item (
    id SERIAL PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    book_id INTEGER NOT NULL REFERENCES book (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0)
);
CREATE INDEX ix_order_item_order_id ON order_item (order_id);

INSERT INTO orders (placed_by) SELECT 'reader' || g || '@example.com' FROM generate_series(1, 100) AS g;

INSERT INTO order_item (order_id, book_id, quantity)
SELECT o, 1 + (o * 31 + k * 17) % (SELECT count(*) FROM book), 1 + k % 3
FROM generate_series(1, 100) AS o, generate_series(1, 40) AS k
WHERE k <= o % 41
ORDER BY o, k;

ANALYZE;
