-- The currency's exponent (ISO 4217 minor unit) a payment's amount_minor was written with,
-- stored with the row so a later table change never rescales an amount already stored.
ALTER TABLE payments ADD COLUMN currency_exponent smallint;

-- Backfill: rows written before this migration used ICU's digits (Intl.NumberFormat's
-- maximumFractionDigits on Node 20–24), not ISO 4217's, so that is the exponent of their
-- amount_minor: 0 for the codes below (HUF, IDR, COP… included), 3 for these six, else 2.
UPDATE payments SET currency_exponent = CASE
  WHEN currency IN ('AFN', 'ALL', 'BIF', 'CLP', 'COP', 'DJF', 'GNF', 'HUF', 'IDR', 'IQD', 'IRR',
                    'ISK', 'JPY', 'KMF', 'KPW', 'KRW', 'LAK', 'LBP', 'MGA', 'MMK', 'PKR', 'PYG',
                    'RWF', 'SLL', 'SOS', 'SYP', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF', 'YER') THEN 0
  WHEN currency IN ('BHD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
  ELSE 2
END;

ALTER TABLE payments ALTER COLUMN currency_exponent SET NOT NULL;
ALTER TABLE payments ADD CONSTRAINT payments_currency_exponent_check CHECK (currency_exponent BETWEEN 0 AND 4);
