-- The key tollgate generated for an invoice (none when the client sent a key of its own): its
-- scope, and the fence of the claim that made this invoice. Once the invoice is paid, that
-- record — and only that one, not a later invoice's under the same key — is forgotten, so the
-- same request buys again instead of replaying the paid invoice for the rest of the key's hour.
ALTER TABLE invoices ADD COLUMN generated_key_scope text, ADD COLUMN generated_key_fence bigint;
