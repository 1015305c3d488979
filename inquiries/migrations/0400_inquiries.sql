-- Questions the knowledge base could not answer, passed to the responsible agency and relayed back to the
-- citizen. The inquiries part owns this table (ARCHITECTURE.md). Databases made before the inquiries part
-- had it from migrations 0100 and 0301-0304: IF NOT EXISTS brings both to the same schema.
CREATE TABLE IF NOT EXISTS inquiries (
  id              bigserial PRIMARY KEY,
  call_id         text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  question        text NOT NULL,
  intent_id       text,
  topic_id        text,
  agency_id       text,
  callback_number text NOT NULL,
  received_at     timestamptz NOT NULL,
  dispatch_due_at timestamptz NOT NULL,
  answer_due_at   timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'dispatched', 'answered', 'closed'))
);
CREATE INDEX IF NOT EXISTS inquiries_dispatch ON inquiries (status, dispatch_due_at);

-- Dispatch to the agency (inquiries/dispatch.ts): when the mail went, the verdict that no retry helps (no
-- e-mail, no SMTP_URL, a permanent 5xx rejection), and how many tries failed and why the last one did, so that
-- a supervisor sees an inquiry the mail relay keeps refusing before the 15-minute norm is missed.
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS dispatched_at timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS dispatch_error text;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS dispatch_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS dispatch_last_error text;

-- The agency's answer.
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answer_text text;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answered_at timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answered_by text;

-- The relay to the caller (inquiries/relay.ts): callbacks placed, when the last was and when the next is due
-- (a call not answered is tried again in 30 minutes), what the last one came to, and, after three attempts
-- without success, the flag that hands the inquiry to an operator to call. relayed_by is the staff login when
-- an operator called the citizen by hand; empty when the line's own callback relayed it.
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS relayed_at timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS relayed_by text;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS relay_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS relay_last_attempt_at timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS relay_next_attempt_at timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS relay_last_result text;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS relay_needs_operator boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS inquiries_relay_due ON inquiries (status, relay_next_attempt_at) WHERE relayed_at IS NULL;
