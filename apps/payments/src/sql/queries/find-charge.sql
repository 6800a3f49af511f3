-- $1 downstream key.
SELECT charge_id, outcome, decline_code FROM processor_charges WHERE downstream_key = $1
