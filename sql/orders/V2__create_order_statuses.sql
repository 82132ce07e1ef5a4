-- Reference data: the states an order moves through. Loaded here so every environment has the
-- same codes; the pipelines refuse rows with a status not in this table.
CREATE TABLE order_statuses (
    status_code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    is_terminal BOOLEAN NOT NULL DEFAULT false
);

INSERT INTO order_statuses (status_code, description, is_terminal) VALUES
    ('placed',    'Order received, payment pending',      false),
    ('paid',      'Payment captured',                     false),
    ('shipped',   'Handed to the carrier',                false),
    ('delivered', 'Delivered to the customer',            true),
    ('cancelled', 'Cancelled before shipping; refunded',  true);
