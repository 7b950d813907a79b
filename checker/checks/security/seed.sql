-- The security lab's template database: Folio's schema and a small catalogue to explore.
-- The checks make their own books, users, sessions and canary rows.
CREATE TABLE books (
    id serial PRIMARY KEY,
    title text NOT NULL,
    author text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    published_year integer NOT NULL
);

CREATE TABLE users (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    bio text NOT NULL DEFAULT '',
    is_admin boolean NOT NULL DEFAULT false,
    role text NOT NULL DEFAULT 'customer',
    wallet_balance_cents integer NOT NULL DEFAULT 0,
    email_verified boolean NOT NULL DEFAULT false
);

-- A session is a random token given at login; only its SHA-256 is kept.
CREATE TABLE sessions (
    token_sha256 text PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    total_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
    id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES orders (id),
    book_id integer NOT NULL REFERENCES books (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    price_cents integer NOT NULL
);
CREATE INDEX order_items_order_id ON order_items (order_id);

CREATE TABLE covers (
    book_id integer PRIMARY KEY REFERENCES books (id) ON DELETE CASCADE,
    content_type text NOT NULL,
    data bytea NOT NULL,
    size integer NOT NULL,
    sha256 text NOT NULL,
    source_url text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO books (title, author, price_cents, published_year) VALUES
    ('Dune', 'Frank Herbert', 1099, 1965),
    ('Dune Messiah', 'Frank Herbert', 999, 1969),
    ('Children of Dune', 'Frank Herbert', 1050, 1976),
    ('The Left Hand of Darkness', 'Ursula K. Le Guin', 1250, 1969),
    ('A Wizard of Earthsea', 'Ursula K. Le Guin', 899, 1968),
    ('Neuromancer', 'William Gibson', 1199, 1984),
    ('Ender''s Game', 'Orson Scott Card', 950, 1985),
    ('Hyperion', 'Dan Simmons', 1399, 1989),
    ('The Dispossessed', 'Ursula K. Le Guin', 1150, 1974),
    ('Foundation', 'Isaac Asimov', 1020, 1951);

-- Two accounts to explore with (password: correct horse battery). The checks make their own.
INSERT INTO users (email, password_hash, display_name, is_admin, role, wallet_balance_cents, email_verified) VALUES
    ('reader@folio.test', 'scrypt$6a1f3c9e5b7d2a4c8e0f1b3d5a7c9e2f$464d6fb179ae46bba2ff4a7f3e50a70f2bd09f8aca59d41c2cefacbcc6dbe2301134afec90f3ab2322df2f13fee636c95f6c122d8fe20c0b898eeec34c2a2664', 'Rea Der', false, 'customer', 2500, true),
    ('staff@folio.test', 'scrypt$6a1f3c9e5b7d2a4c8e0f1b3d5a7c9e2f$464d6fb179ae46bba2ff4a7f3e50a70f2bd09f8aca59d41c2cefacbcc6dbe2301134afec90f3ab2322df2f13fee636c95f6c122d8fe20c0b898eeec34c2a2664', 'Staff', true, 'staff', 0, true);
