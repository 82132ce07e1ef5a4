COMMENT ON TABLE customers IS 'who orders';
