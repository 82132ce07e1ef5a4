-- Additive change: a new column with a default keeps every existing row valid and every
-- existing reader working.
ALTER TABLE customers ADD COLUMN marketing_opt_in BOOLEAN NOT NULL DEFAULT false;

-- Daily revenue per status, read by reporting; a function body with semicolons inside.
CREATE FUNCTION order_total_cents(p_order_id BIGINT) RETURNS BIGINT
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(SUM(quantity * unit_price_cents), 0)
    FROM order_lines
    WHERE order_id = p_order_id;
$$;
