-- The rate-limiting lab's template database: Folio's catalogue, searchable in full text,
-- and the partners allowed to search it by API key. Built once per machine, then cloned
-- for every run.
CREATE TABLE book (
    id serial PRIMARY KEY,
    title text NOT NULL,
    author text NOT NULL,
    blurb text NOT NULL DEFAULT '',
    year integer NOT NULL
);

-- The index the search uses: the same expression as the query, in the same words.
CREATE INDEX book_search_idx ON book
    USING gin (to_tsvector('english', title || ' ' || author || ' ' || blurb));

CREATE TABLE partner (
    id serial PRIMARY KEY,
    name text NOT NULL,
    api_key text NOT NULL UNIQUE
);

INSERT INTO book (title, author, blurb, year)
SELECT
    initcap((ARRAY['the', 'a', 'no', 'last', 'first', 'silent', 'hidden', 'red'])[1 + i % 8])
        || ' ' || (ARRAY['river', 'tower', 'garden', 'engine', 'letter', 'map', 'winter',
                         'city', 'voyage', 'machine', 'forest'])[1 + (i * 7) % 11]
        || ' ' || i,
    (ARRAY['Ada Byron', 'Kim Stanley', 'Mary Shelley', 'Ted Chiang', 'N. K. Jemisin',
           'Iain Banks', 'Ursula Le Guin', 'Octavia Butler', 'Jules Verne'])[1 + (i * 5) % 9],
    'A story of ' || (ARRAY['dragons', 'robots', 'detectives', 'sailors', 'gardeners',
                            'cartographers', 'clockmakers'])[1 + (i * 3) % 7]
        || ' and ' || (ARRAY['storms', 'secrets', 'letters', 'islands', 'machines'])[1 + i % 5]
        || '.',
    1850 + (i * 13) % 175
FROM generate_series(1, 3000) AS i;

-- Two partners for trying the service by hand (the README and the notebook use them),
-- and the partners Folio already had before the scrapers came.
INSERT INTO partner (name, api_key) VALUES
    ('Bookworm app', 'demo-bookworm-key'),
    ('Reading club', 'demo-readingclub-key');
INSERT INTO partner (name, api_key)
SELECT 'Partner ' || i, 'pk_' || md5('folio partner ' || i)
FROM generate_series(1, 30) AS i;

ANALYZE;
