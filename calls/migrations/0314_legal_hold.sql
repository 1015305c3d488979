-- Retention of personal data (152-FZ) and the legal hold on a call. A supervisor may hold a call for a court
-- or an inspection: while legal_hold_at is set, the retention job removes none of the call's personal data
-- (recordings, turns, numbers, wherever a part keeps them). Who put the hold and why is on the row; every
-- hold and release is also in the audit log. transcript_removed_at and caller_number_removed_at say when the
-- retention job removed the call's turns (and the operator's note) and its numbers, so the call card can say
-- so and the job never counts a call twice.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS legal_hold_at timestamptz;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS legal_hold_by text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS legal_hold_reason text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS transcript_removed_at timestamptz;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS caller_number_removed_at timestamptz;
CREATE INDEX IF NOT EXISTS calls_legal_hold ON calls (id) WHERE legal_hold_at IS NOT NULL;
