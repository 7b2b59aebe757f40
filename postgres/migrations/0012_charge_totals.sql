-- 0012: what each wallet was charged, summed per hour of occurred_at, so
-- that a check's "used this period" reads at most one row per hour of the
-- period (plus the charges of the period's first, partial hour) instead of
-- every charge. hour is the start of the hour in microseconds since the
-- Unix epoch (UTC); charged is the negated sum of the amounts of the
-- wallet's entries of type 'charge' with a negative amount that occurred in
-- that hour, exactly what SumCharges sums.
--
-- A trigger keeps it: entries are append-only (no UPDATE, DELETE or
-- TRUNCATE), so adding every charge as it is inserted is the whole upkeep,
-- backdated charges included (they land in the hour they occurred in).
-- Reversals are entries of their own type and do not lower it, as they do
-- not lower a check's "used". A migration that rewrites entries with the
-- append-only triggers disabled must rebuild this table.
CREATE TABLE charge_totals (
    customer TEXT COLLATE "C" NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    hour     BIGINT NOT NULL,
    charged  BIGINT NOT NULL,
    PRIMARY KEY (customer, currency, hour)
);

-- Floor to the hour, also for times before 1970 (% truncates toward zero).
INSERT INTO charge_totals (customer, currency, hour, charged)
SELECT customer, currency, occurred_at - ((occurred_at % 3600000000) + 3600000000) % 3600000000, SUM(-amount)
FROM entries WHERE type = 'charge' AND amount < 0
GROUP BY 1, 2, 3;

-- Once per INSERT statement (a write batch inserts its entries in one), over
-- the rows it inserted: one upsert per wallet and hour, in key order, so
-- that two transactions lock the rows they share in the same order. A
-- wallet's charges are written under its wallet row's lock already, so the
-- rows add no waiting of their own.
CREATE FUNCTION entries_charge_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO charge_totals AS t (customer, currency, hour, charged)
    SELECT customer, currency, occurred_at - ((occurred_at % 3600000000) + 3600000000) % 3600000000 AS hour,
           SUM(-amount)
    FROM new_entries WHERE type = 'charge' AND amount < 0
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (customer, currency, hour) DO UPDATE SET charged = t.charged + EXCLUDED.charged;
    RETURN NULL;
END $$;
CREATE TRIGGER entries_charge_totals AFTER INSERT ON entries
REFERENCING NEW TABLE AS new_entries
FOR EACH STATEMENT EXECUTE FUNCTION entries_charge_totals();
