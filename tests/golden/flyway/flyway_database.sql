-- The database as Flyway 9 left it: B1 (a new database gets the baseline migration, not V1), V2, V3, V4
-- and the repeatable applied. The objects first, then flyway_schema_history with Flyway's own DDL and the
-- rows it wrote (checksums are Flyway's CRC32 of each file; a repeatable's description keeps the space
-- its name's trailing `_` stands for; V4__.sql has an empty one). Roles are the server's, so V2's GRANT
-- is left out here.
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE
);
CREATE INDEX customers_email_lower ON customers (lower(email));
COMMENT ON TABLE customers IS 'who orders';
CREATE TABLE regions (code text PRIMARY KEY, name text NOT NULL, source text);
INSERT INTO regions VALUES ('eu', 'Europe; West', 'manual'), ('us', 'it''s America', NULL);
CREATE OR REPLACE VIEW customer_emails AS SELECT id, lower(email) AS email FROM customers;

CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");

INSERT INTO "public"."flyway_schema_history" VALUES
    (1, '1', 'baseline', 'SQL_BASELINE', 'B1__baseline.sql', -1437585582, 'orders_app', '2025-03-04 10:11:12.345', 21, true),
    (2, '2', 'seed regions', 'SQL', 'V2__seed_regions.sql', -1422966381, 'orders_app', '2025-03-04 10:11:12.401', 9, true),
    (3, '3', 'drop legacy note', 'SQL', 'V3__drop_legacy_note.sql', 2109627379, 'orders_app', '2025-05-20 08:00:01.002', 14, true),
    (4, '4', '', 'SQL', 'V4__.sql', 603660508, 'orders_app', '2025-06-01 09:30:00.777', 3, true),
    (5, NULL, 'customer view ', 'SQL', 'R__customer_view_.sql', 1248677099, 'orders_app', '2025-06-01 09:30:00.812', 5, true);
