-- The caller's side of waiting for a person: a desk-accepted phone call is bridged by the telephony node that
-- holds its channel (bridged_at says it was); a queue may overflow (to another queue, the bot's inquiry, or a
-- callback registered for the caller) after overflow_after_ms; after announce_max announcements without an
-- operator the caller is not left waiting on (a callback registered automatically, or the bot's inquiry).

ALTER TABLE telephony_queue_calls
  -- When the caller's leg was bridged to the operator's phone; NULL on an answered phone call: accepted on the
  -- desk, the bridge is still to be made.
  ADD COLUMN IF NOT EXISTS bridged_at timestamptz,
  -- When the call overflowed its queue (once per call: a second overflow would pass the caller round queues).
  ADD COLUMN IF NOT EXISTS overflowed_at timestamptz;
-- Every answered call so far was bridged at its accept (the phone answered first).
UPDATE telephony_queue_calls SET bridged_at = answered_at
 WHERE state = 'answered' AND bridged_at IS NULL AND channel = 'phone';
-- 'inquiry': the wait ended in the bot's inquiry flow (overflow, or announcements without end).
ALTER TABLE telephony_queue_calls DROP CONSTRAINT IF EXISTS telephony_queue_calls_state_check;
ALTER TABLE telephony_queue_calls ADD CONSTRAINT telephony_queue_calls_state_check
  CHECK (state IN ('waiting', 'offered', 'answered', 'abandoned', 'callback', 'inquiry'));
CREATE INDEX IF NOT EXISTS telephony_queue_unbridged ON telephony_queue_calls (call_id)
  WHERE state = 'answered' AND bridged_at IS NULL;

ALTER TABLE telephony_acd_queues
  ADD COLUMN IF NOT EXISTS overflow_after_ms bigint CHECK (overflow_after_ms > 0),
  -- 'queue:<id>' | 'inquiry' | 'callback'; NULL: no overflow, the caller keeps waiting with announcements.
  ADD COLUMN IF NOT EXISTS overflow_to text
    CHECK (overflow_to IS NULL OR overflow_to IN ('inquiry', 'callback') OR overflow_to LIKE 'queue:_%'),
  -- NULL: the OperatorQueue's default (DEFAULT_ANNOUNCE_MAX in telephony/acd/model.ts).
  ADD COLUMN IF NOT EXISTS announce_max integer CHECK (announce_max > 0);
