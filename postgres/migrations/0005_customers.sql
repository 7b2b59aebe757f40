-- 0005: customers. The same table as sqlite/migrations/0005_customers.sql.
-- A customer is whoever owns wallets, known by the app's own ID; a write
-- creates it on first sight, and POST /v1/customers creates it with a name,
-- email and metadata. Plans and subscriptions will get tables of their own
-- that name the customer.
CREATE TABLE customers (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL DEFAULT '',
    email      TEXT   NOT NULL DEFAULT '',
    metadata   JSONB  NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

-- Every customer that already has a wallet becomes a customer, created when
-- its first wallet was.
INSERT INTO customers (id, created_at)
SELECT customer, MIN(created_at) FROM wallets GROUP BY customer;
