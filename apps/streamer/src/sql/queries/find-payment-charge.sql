SELECT telegram_payment_charge_id FROM payments WHERE invoice_id = $1
