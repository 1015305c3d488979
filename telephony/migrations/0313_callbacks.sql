-- Callbacks as the desk and the job worker see them ([3/7]): an id of their own (an operator's callback has no
-- call), where they came from, their state, when they are due, their attempts and outcome. The inserts of the
-- queue (moveOverdueToCallback) and of the caller's own request keep working with the defaults.
ALTER TABLE telephony_callbacks
  ADD COLUMN IF NOT EXISTS id text,
  ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'queue',
  ADD COLUMN IF NOT EXISTS due_at timestamptz,
  ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS max_attempts integer NOT NULL DEFAULT 3,
  ADD COLUMN IF NOT EXISTS last_result text,
  ADD COLUMN IF NOT EXISTS outcome text,
  ADD COLUMN IF NOT EXISTS operator_id text,
  ADD COLUMN IF NOT EXISTS note text,
  -- The caller's original place in the queue: a callback put back in the ACD keeps it.
  ADD COLUMN IF NOT EXISTS place_at timestamptz,
  ADD COLUMN IF NOT EXISTS updated_at timestamptz;
UPDATE telephony_callbacks SET id = call_id WHERE id IS NULL;
ALTER TABLE telephony_callbacks ALTER COLUMN id SET DEFAULT gen_random_uuid()::text;
ALTER TABLE telephony_callbacks ALTER COLUMN id SET NOT NULL;
ALTER TABLE telephony_callbacks ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE telephony_callbacks DROP CONSTRAINT IF EXISTS telephony_callbacks_pkey;
ALTER TABLE telephony_callbacks ADD PRIMARY KEY (id);
ALTER TABLE telephony_callbacks ALTER COLUMN call_id DROP NOT NULL;
-- One callback per call still (ON CONFLICT (call_id) of the existing inserts); callbacks without a call are many.
CREATE UNIQUE INDEX IF NOT EXISTS telephony_callbacks_call ON telephony_callbacks (call_id);
ALTER TABLE telephony_callbacks DROP CONSTRAINT IF EXISTS telephony_callbacks_state_check;
ALTER TABLE telephony_callbacks ADD CONSTRAINT telephony_callbacks_state_check
  CHECK (state IN ('pending', 'scheduled', 'dialling', 'done', 'failed', 'cancelled'));
ALTER TABLE telephony_callbacks ADD CONSTRAINT telephony_callbacks_source_check
  CHECK (source IN ('caller', 'queue', 'inquiry', 'operator'));
CREATE INDEX IF NOT EXISTS telephony_callbacks_open ON telephony_callbacks (state, due_at);
