-- One call record per call: the SIP facts telephony knows (the caller's channel, answer and hang-up, the legs
-- of forwards and bridges) live on the same `calls` row as the dialog, instead of a second telephony table.
-- `outcome` stays the dialog's outcome (what the bot did); `sip_outcome` is where the line took the call
-- (bot, forwarded, operator, callback, not_reached, ...), `sip_end_reason` who hung up or why a dial failed.
-- All SIP columns are NULL (legs empty) for calls without a SIP leg (web chat, simulations, bare media socket).
ALTER TABLE calls ADD COLUMN IF NOT EXISTS channel_uuid text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS direction text CHECK (direction IN ('inbound', 'outbound'));
ALTER TABLE calls ADD COLUMN IF NOT EXISTS answered_at timestamptz;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS sip_ended_at timestamptz;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS duration_ms bigint;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS sip_outcome text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS sip_end_reason text;
-- [{kind: 'bot'|'agency'|'operator'|'outbound'|'message', target, status, at}]
ALTER TABLE calls ADD COLUMN IF NOT EXISTS legs jsonb NOT NULL DEFAULT '[]'::jsonb;

-- A database made before this migration has the SIP facts in telephony_calls (dropped by telephony's 0201):
-- copy them onto the call rows, merging with the row the voice bot wrote for the same call. A call only
-- telephony saw (the bot was unreachable, an outbound call nobody answered) gets a row of its own; one
-- telephony had not closed is left active without an owner, so the next start marks it interrupted.
DO $$
BEGIN
  IF to_regclass('telephony_calls') IS NOT NULL THEN
    INSERT INTO calls (id, channel, caller_number, dialled_number, started_at, ended_at, status,
                       channel_uuid, direction, answered_at, sip_ended_at, duration_ms, sip_outcome,
                       sip_end_reason, legs)
    SELECT t.call_id, 'sip', NULLIF(t.from_number, ''), COALESCE(NULLIF(t.to_number, ''), '122'), t.started_at,
           t.ended_at, CASE WHEN t.ended_at IS NULL THEN 'active' ELSE 'completed' END,
           t.channel_uuid, t.direction, t.answered_at, t.ended_at, t.duration_ms, t.outcome, t.end_reason, t.legs
      FROM telephony_calls t
    ON CONFLICT (id) DO UPDATE SET
      channel = 'sip',
      caller_number = COALESCE(calls.caller_number, EXCLUDED.caller_number),
      started_at = LEAST(calls.started_at, EXCLUDED.started_at),
      channel_uuid = EXCLUDED.channel_uuid,
      direction = EXCLUDED.direction,
      answered_at = EXCLUDED.answered_at,
      sip_ended_at = EXCLUDED.sip_ended_at,
      duration_ms = EXCLUDED.duration_ms,
      sip_outcome = EXCLUDED.sip_outcome,
      sip_end_reason = EXCLUDED.sip_end_reason,
      legs = EXCLUDED.legs;
  END IF;
END
$$;
