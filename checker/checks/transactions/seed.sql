-- The transactions lab's template database: the shop's schema and a small catalog to
-- explore. The checks make their own books, wallets and coupons.
--
-- No CHECK (stock >= 0) or CHECK (balance_cents >= 0) on purpose: the service itself
-- must never sell what it does not have, nor spend what a wallet does not hold.
CREATE TABLE books (
    id serial PRIMARY KEY,
    title text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    stock integer NOT NULL
);

CREATE TABLE wallets (
    id serial PRIMARY KEY,
    owner text NOT NULL,
    balance_cents integer NOT NULL
);

CREATE TABLE orders (
    id serial PRIMARY KEY,
    wallet_id integer NOT NULL REFERENCES wallets (id),
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
CREATE INDEX order_items_book_id ON order_items (book_id);

CREATE TABLE transfers (
    id serial PRIMARY KEY,
    from_wallet_id integer NOT NULL REFERENCES wallets (id),
    to_wallet_id integer NOT NULL REFERENCES wallets (id),
    amount_cents integer NOT NULL CHECK (amount_cents > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every change to a balance is a line here: a wallet's balance is the sum of its lines.
CREATE TABLE ledger (
    id bigserial PRIMARY KEY,
    wallet_id integer NOT NULL REFERENCES wallets (id),
    amount_cents integer NOT NULL,
    kind text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_wallet_id ON ledger (wallet_id);

CREATE TABLE coupons (
    code text PRIMARY KEY,
    credit_cents integer NOT NULL CHECK (credit_cents > 0),
    uses_left integer NOT NULL
);

CREATE TABLE redemptions (
    id serial PRIMARY KEY,
    coupon_code text NOT NULL REFERENCES coupons (code),
    wallet_id integer NOT NULL REFERENCES wallets (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO books (title, price_cents, stock) VALUES
    ('Dune', 1099, 12),
    ('The Left Hand of Darkness', 999, 3),
    ('Kindred', 1250, 7),
    ('Piranesi', 1499, 1),
    ('The Dispossessed', 1150, 5),
    ('Station Eleven', 1399, 9),
    ('A Wizard of Earthsea', 899, 4),
    ('Parable of the Sower', 1199, 2);

INSERT INTO wallets (owner, balance_cents) VALUES
    ('ada@example.com', 5000),
    ('grace@example.com', 2500),
    ('linus@example.com', 800),
    ('margaret@example.com', 12000),
    ('ken@example.com', 0);
INSERT INTO ledger (wallet_id, amount_cents, kind)
SELECT id, balance_cents, 'opening' FROM wallets WHERE balance_cents <> 0;

INSERT INTO coupons (code, credit_cents, uses_left) VALUES
    ('WELCOME5', 500, 100),
    ('LAUNCH10', 1000, 3);
