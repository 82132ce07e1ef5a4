CREATE TABLE order_lines (
    order_id         BIGINT NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
    line_no          INT NOT NULL,
    sku              TEXT NOT NULL,
    quantity         INT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, line_no)
);
