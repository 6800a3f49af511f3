-- $1 principal, $2 action, $3 transaction id, $4 request id, $5 details.
INSERT INTO audit_logs (principal, action, transaction_id, request_id, details)
VALUES ($1, $2, $3, $4, $5)
