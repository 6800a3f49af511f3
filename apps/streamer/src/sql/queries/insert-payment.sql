INSERT INTO payments (id, invoice_id, stars, telegram_payment_charge_id, provider_payment_charge_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (invoice_id) DO NOTHING
RETURNING id
