-- The webhooks lab's template database: the tables, empty (each check makes its own
-- merchants and orders through the API).
CREATE TABLE merchant (
    id serial PRIMARY KEY,
    name text NOT NULL,
    api_key text NOT NULL UNIQUE
);

CREATE TABLE customer_order (
    id serial PRIMARY KEY,
    merchant_id integer NOT NULL REFERENCES merchant (id),
    customer_email text NOT NULL,
    amount_cents integer NOT NULL,
    status text NOT NULL DEFAULT 'created',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payment (
    id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES customer_order (id),
    charge_id text NOT NULL,
    amount_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE processed_event (
    id text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_endpoint (
    id serial PRIMARY KEY,
    merchant_id integer NOT NULL REFERENCES merchant (id),
    url text NOT NULL,
    events text NOT NULL,
    secret text NOT NULL,
    previous_secret text,
    previous_secret_until timestamptz,
    status text NOT NULL DEFAULT 'enabled',
    disabled_reason text,
    failed_messages integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_message (
    id text PRIMARY KEY,
    merchant_id integer NOT NULL REFERENCES merchant (id),
    event_type text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
