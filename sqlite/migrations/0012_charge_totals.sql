-- 0012: what each wallet was charged, summed per hour of occurred_at, so
-- that a check's "used this period" reads at most one row per hour of the
-- period (plus the charges of the period's first, partial hour) instead of
-- every charge. hour is the start of the hour in microseconds since the
-- Unix epoch (UTC); charged is the negated sum of the amounts of the
-- wallet's entries of type 'charge' with a negative amount that occurred in
-- that hour, exactly what SumCharges sums.
--
-- A trigger keeps it: entries are append-only (no UPDATE, no DELETE), so
-- adding every charge as it is inserted is the whole upkeep, backdated
-- charges included (they land in the hour they occurred in). Reversals are
-- entries of their own type and do not lower it, as they do not lower a
-- check's "used". A migration that rewrites entries with the append-only
-- triggers lifted must rebuild this table.
CREATE TABLE charge_totals (
    customer TEXT    NOT NULL,
    currency TEXT    NOT NULL,
    hour     INTEGER NOT NULL,
    charged  INTEGER NOT NULL,
    PRIMARY KEY (customer, currency, hour)
) WITHOUT ROWID;

-- Floor to the hour, also for times before 1970 (% truncates toward zero).
INSERT INTO charge_totals (customer, currency, hour, charged)
SELECT customer, currency, occurred_at - ((occurred_at % 3600000000) + 3600000000) % 3600000000, SUM(-amount)
FROM entries WHERE type = 'charge' AND amount < 0
GROUP BY 1, 2, 3;

CREATE TRIGGER entries_charge_totals AFTER INSERT ON entries
WHEN NEW.type = 'charge' AND NEW.amount < 0
BEGIN
    INSERT INTO charge_totals (customer, currency, hour, charged)
    VALUES (NEW.customer, NEW.currency,
            NEW.occurred_at - ((NEW.occurred_at % 3600000000) + 3600000000) % 3600000000, -NEW.amount)
    ON CONFLICT (customer, currency, hour) DO UPDATE SET charged = charged + excluded.charged;
END;
