-- The answer studio (kb/editor.ts): a version's written form for the web chat (`chat`, NULL: the chat shows
-- the spoken text), what the line does with the question once the version is approved (`handling`: answer it,
-- forward the caller to the agency, register an inquiry), and who returned it to its author, and when.
-- `screen` stays the operator's card (the desk shows it).
ALTER TABLE answer_versions ADD COLUMN chat text;
ALTER TABLE answer_versions ADD COLUMN handling text NOT NULL DEFAULT 'answer'
  CHECK (handling IN ('answer', 'forward', 'inquiry'));
ALTER TABLE answer_versions ADD COLUMN returned_by text;
ALTER TABLE answer_versions ADD COLUMN returned_at timestamptz;
-- The scripts of questions forwarded to their agency keep doing so.
UPDATE answer_versions a SET handling = 'forward'
  FROM intents i WHERE i.id = a.intent_id AND i.handling = 'forward';
CREATE INDEX answer_versions_pending ON answer_versions (submitted_at) WHERE status = 'pending_approval';
