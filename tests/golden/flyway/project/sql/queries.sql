-- helper queries, not a migration
SELECT count(*) FROM customers;
