SELECT 1; -- a draft Flyway skips: its name does not parse
