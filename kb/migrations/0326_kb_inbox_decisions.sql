-- The knowledge studio's inbox: what editors decided about a wording callers used (the key: the phrase
-- normalized and stemmed, nlu/phrase-groups.ts phraseKey). `assigned`: added as a training phrase of
-- `intent_id`; `new_intent`: a new intent was made of its group (`intent_id`); `dismissed`: not worth an intent.
-- A decided wording no longer shows in the inbox. The editors' work state, outside the KB's revision stamp:
-- the NLU does not depend on it (the phrases it added are in intent_phrases).
CREATE TABLE IF NOT EXISTS kb_inbox_decisions (
  phrase_key text PRIMARY KEY,
  decision   text NOT NULL CHECK (decision IN ('assigned', 'dismissed', 'new_intent')),
  intent_id  text,
  sample     text NOT NULL DEFAULT '',
  decided_by text NOT NULL,
  decided_at timestamptz NOT NULL,
  CHECK ((decision = 'dismissed') = (intent_id IS NULL))
);
