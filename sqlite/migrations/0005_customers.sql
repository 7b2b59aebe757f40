-- 0005: customers. A customer is whoever owns wallets, known by the app's
-- own ID; a write creates it on first sight, and POST /v1/customers creates
-- it with a name, email and metadata. Plans and subscriptions will get
-- tables of their own that name the customer.
CREATE TABLE customers (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL DEFAULT '',
    email      TEXT    NOT NULL DEFAULT '',
    metadata   TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Every customer that already has a wallet becomes a customer, created when
-- its first wallet was.
INSERT INTO customers (id, created_at)
SELECT customer, MIN(created_at) FROM wallets GROUP BY customer;
