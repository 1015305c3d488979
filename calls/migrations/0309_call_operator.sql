-- The operator's part of the call card: who took the call or chat from the queue, how they closed it (an
-- outcome id from the knowledge base's kb_outcomes, not a foreign key: calls do not depend on the KB's
-- tables) and their note.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS operator_id text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS operator_name text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS operator_outcome text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS operator_note text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS operator_closed_at timestamptz;
CREATE INDEX IF NOT EXISTS calls_caller_number ON calls (caller_number, started_at DESC);
