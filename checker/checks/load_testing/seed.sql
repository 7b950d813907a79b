-- Folio's catalog for the load-testing lab: 5,000 books, built once into the template
-- database. The service's own create_all() leaves this table as it is and adds "order".
CREATE TABLE book (
    id SERIAL PRIMARY KEY,
    title VARCHAR(255) NOT NULL,
    author VARCHAR(255) NOT NULL,
    isbn VARCHAR(13) NOT NULL UNIQUE,
    price_cents INTEGER NOT NULL,
    published_year INTEGER
);

INSERT INTO book (title, author, isbn, price_cents, published_year)
SELECT
    (ARRAY['The Silent', 'A Distant', 'The Last', 'Another', 'The Hidden', 'The Broken',
           'A Quiet', 'The Burning'])[1 + n % 8]
        || ' ' ||
    (ARRAY['Harbor', 'Library', 'Orchard', 'Winter', 'Engine', 'Garden', 'River', 'Signal',
           'Archive', 'Kingdom'])[1 + (n / 8) % 10]
        || ' ' || n,
    (ARRAY['Ursula K. Le Guin', 'Octavia E. Butler', 'Italo Calvino', 'Toni Morrison',
           'Kazuo Ishiguro', 'Chimamanda Ngozi Adichie', 'Jorge Luis Borges'])[1 + n % 7],
    p12 || ((10 - (SELECT sum(substr(p12, k, 1)::int * (CASE WHEN k % 2 = 0 THEN 3 ELSE 1 END))
                   FROM generate_series(1, 12) AS k) % 10) % 10)::text,
    499 + (n * 37) % 4500,
    1950 + n % 75
FROM (SELECT n, '978' || lpad(n::text, 9, '0') AS p12 FROM generate_series(1, 5000) AS n) AS s;

ANALYZE book;
