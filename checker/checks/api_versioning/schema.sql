-- The api-versioning lab's template database: one books table that v1 and v2 share,
-- and a small catalog to explore. The checks make their own books.
CREATE TABLE books (
    id serial PRIMARY KEY,
    title text NOT NULL,
    subtitle text,
    authors text[] NOT NULL CHECK (cardinality(authors) >= 1),
    price_amount numeric(10, 2) NOT NULL CHECK (price_amount >= 0),
    currency varchar(3) NOT NULL DEFAULT 'EUR',
    format text NOT NULL DEFAULT 'paperback',
    version integer NOT NULL DEFAULT 1
);

INSERT INTO books (title, subtitle, authors, price_amount, currency, format) VALUES
    ('Dune', NULL, ARRAY['Frank Herbert'], 25.99, 'EUR', 'hardcover'),
    ('Good Omens', 'The Nice and Accurate Prophecies of Agnes Nutter, Witch', ARRAY['Terry Pratchett', 'Neil Gaiman'], 12.50, 'GBP', 'paperback'),
    ('The Left Hand of Darkness', NULL, ARRAY['Ursula K. Le Guin'], 9.99, 'EUR', 'ebook'),
    ('Neuromancer', NULL, ARRAY['William Gibson'], 14.00, 'USD', 'paperback'),
    ('The Three-Body Problem', NULL, ARRAY['Liu Cixin', 'Ken Liu'], 18.90, 'EUR', 'hardcover'),
    ('Hyperion', NULL, ARRAY['Dan Simmons'], 11.25, 'EUR', 'paperback'),
    ('Kindred', NULL, ARRAY['Octavia E. Butler'], 10.00, 'USD', 'ebook'),
    ('Solaris', NULL, ARRAY['Stanisław Lem'], 13.40, 'EUR', 'paperback'),
    ('The Dispossessed', 'An Ambiguous Utopia', ARRAY['Ursula K. Le Guin'], 15.75, 'EUR', 'hardcover'),
    ('Snow Crash', NULL, ARRAY['Neal Stephenson'], 16.20, 'USD', 'paperback'),
    ('Foundation', NULL, ARRAY['Isaac Asimov'], 8.99, 'EUR', 'ebook'),
    ('Annihilation', NULL, ARRAY['Jeff VanderMeer'], 12.00, 'EUR', 'paperback');
