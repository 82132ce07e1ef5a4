-- One row per run of the Step Functions ETL that ended in a load (its execution name), so a retried
-- execution is recognised and a day is never loaded twice.
CREATE TABLE load_runs (
    run_id       TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    rows_loaded  BIGINT NOT NULL CHECK (rows_loaded >= 0),
    finished_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
