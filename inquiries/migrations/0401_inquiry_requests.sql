-- One question to several competent agencies at once (Irkutsk 10.1): one inquiries row per agency, sharing
-- request_id, the number the citizen is told (the first row's id; older rows are their own request). Each row
-- keeps the agreement its deadline follows (answer_terms: kb/inquiry-terms.ts's InquiryTerms as JSON, NULL on
-- rows made before: the Irkutsk rule) and the instant its term counts from (term_from: received_at, or when
-- staff added the agency later); answer_term_amount is the term with the extensions granted (NULL: the terms').
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS request_id bigint;
UPDATE inquiries SET request_id = id WHERE request_id IS NULL;
CREATE INDEX IF NOT EXISTS inquiries_request ON inquiries (request_id);
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answer_terms jsonb;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS term_from timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS answer_term_amount integer;

-- Extensions the agency asked for (Irkutsk 10.3): who recorded it, when, the reason, the deadline before and after.
CREATE TABLE IF NOT EXISTS inquiry_extensions (
  id           bigserial PRIMARY KEY,
  inquiry_id   bigint NOT NULL REFERENCES inquiries (id) ON DELETE CASCADE,
  amount       integer NOT NULL CHECK (amount > 0),
  unit         text NOT NULL CHECK (unit IN ('hours', 'calendar_days', 'working_days')),
  reason       text NOT NULL,
  recorded_by  text NOT NULL,
  recorded_at  timestamptz NOT NULL,
  old_due_at   timestamptz NOT NULL,
  new_due_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS inquiry_extensions_inquiry ON inquiry_extensions (inquiry_id, id);
