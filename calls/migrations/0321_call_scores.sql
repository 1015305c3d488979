-- Quality control. A supervisor's score of a call against the knowledge base's checklist: the items as they
-- were given (id, title, kind, weight, points: a copy, so editing the checklist later changes no score), the
-- total in percent of the points possible, the operator who took the call, the scorer (a staff login) and a
-- comment. A call may be scored more than once (by different supervisors, or again).
CREATE TABLE IF NOT EXISTS call_scores (
  id          bigserial PRIMARY KEY,
  call_id     text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  operator_id text,
  scorer      text NOT NULL,
  items       jsonb NOT NULL,
  total       numeric(5, 2) NOT NULL CHECK (total BETWEEN 0 AND 100),
  comment     text,
  at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS call_scores_call ON call_scores (call_id, at);
CREATE INDEX IF NOT EXISTS call_scores_operator ON call_scores (operator_id, at);

-- The post-call survey also after an operator's conversation or a forward to an agency (telephony plays it
-- when the other side hangs up first): where it was taken, and the operator it scores.
ALTER TABLE survey_results ADD COLUMN IF NOT EXISTS after text NOT NULL DEFAULT 'bot'
  CHECK (after IN ('bot', 'operator', 'agency'));
ALTER TABLE survey_results ADD COLUMN IF NOT EXISTS operator_id text;
