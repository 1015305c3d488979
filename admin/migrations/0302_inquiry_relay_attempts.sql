-- Callbacks that relay the agency's answer to the caller (admin/jobs/relay.ts): how many were placed, when
-- the last was and when the next is due (a call not answered is tried again in 30 minutes), what the last one
-- came to, and, after three attempts without success, the flag that hands the inquiry to an operator to call.
ALTER TABLE inquiries ADD COLUMN relay_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE inquiries ADD COLUMN relay_last_attempt_at timestamptz;
ALTER TABLE inquiries ADD COLUMN relay_next_attempt_at timestamptz;
ALTER TABLE inquiries ADD COLUMN relay_last_result text;
ALTER TABLE inquiries ADD COLUMN relay_needs_operator boolean NOT NULL DEFAULT false;
CREATE INDEX inquiries_relay_due ON inquiries (status, relay_next_attempt_at) WHERE relayed_at IS NULL;
