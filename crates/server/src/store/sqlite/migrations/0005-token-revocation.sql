-- A token can be revoked: it stops working in every process (their caches look again
-- within a second).
ALTER TABLE tokens ADD COLUMN revoked_at TEXT;
