-- A public key belongs to the first user who registered it (signatures name their signer).
CREATE TABLE key_holders (
    fingerprint TEXT PRIMARY KEY,
    user_id TEXT NOT NULL
);
INSERT INTO key_holders (fingerprint, user_id)
SELECT k.fingerprint, k.user_id FROM signing_keys k
WHERE NOT EXISTS (
    SELECT 1 FROM signing_keys e
    WHERE e.fingerprint = k.fingerprint
      AND (e.created_at < k.created_at OR (e.created_at = k.created_at AND e.id < k.id))
);

-- Signature requests still open move to the v2 message, which names the request and the
-- signer; signed ones keep the v1 message they were signed over.
UPDATE file_signatures
SET message = 'hub-signature:v2:' || file_id || ':'
    || substr(message, length('hub-signature:v1:' || file_id || ':') + 1)
    || ':' || id || ':' || signer_id
WHERE status = 'REQUESTED' AND message LIKE 'hub-signature:v1:%';
