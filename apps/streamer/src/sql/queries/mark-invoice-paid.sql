UPDATE invoices SET status = 'paid', paid_at = clock_timestamp() WHERE id = $1
