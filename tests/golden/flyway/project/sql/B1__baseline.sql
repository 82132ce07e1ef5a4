-- Flyway Teams baseline migration: what V1 builds, for new databases.
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    legacy_note text
);
