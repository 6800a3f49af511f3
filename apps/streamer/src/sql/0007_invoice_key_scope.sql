-- The scope of the key tollgate generated for an invoice (none when the client sent its own):
-- once the invoice is paid, that key is forgotten, so the same request buys again instead of
-- replaying the paid invoice for the rest of the key's hour.
ALTER TABLE invoices ADD COLUMN generated_key_scope text;
