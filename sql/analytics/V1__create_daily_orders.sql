-- The warehouse side of the nightly ETL: the Glue load (pipelines/glue/orders_load.glue-job.json) writes
-- one row per day and currency from the curated orders in the data bucket.
CREATE TABLE daily_orders (
    order_date   DATE NOT NULL,
    currency     CHAR(3) NOT NULL,
    orders       BIGINT NOT NULL CHECK (orders >= 0),
    total_cents  BIGINT NOT NULL CHECK (total_cents >= 0),
    loaded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (order_date, currency)
);
