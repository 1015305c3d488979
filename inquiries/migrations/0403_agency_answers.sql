-- The agency answers without an account (inquiries/agency-link.ts, inquiries/mail-reply.ts): the Message-ID
-- of the dispatch mail (a reply's In-Reply-To finds the inquiry), how the answer came (staff, the signed web
-- form, a mail reply) and which KB draft it became (kb answer_versions: intent and version, never approved
-- here). Keyed on the row's id: each row is one agency's inquiry.
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS dispatch_message_id text;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answer_channel text;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answer_draft_intent_id text;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answer_draft_version integer;
-- Reminders before the deadline and the escalation to the supervisor after it (inquiries/reminders.ts):
-- each is sent once; the column says when.
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS reminder_sent_at timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS escalated_at timestamptz;
CREATE INDEX IF NOT EXISTS inquiries_message_id ON inquiries (dispatch_message_id) WHERE dispatch_message_id IS NOT NULL;
