-- The held-out set the editors keep: phrases per intent that the NLU is tested on and never trained on
-- (nlu/ reads them through kb/test-phrases.ts to compare a new model with the serving one). Outside the KB's
-- revision stamp: changing the test set retrains nothing.
CREATE TABLE IF NOT EXISTS intent_test_phrases (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  intent_id text NOT NULL REFERENCES intents (id) ON DELETE CASCADE ON UPDATE CASCADE,
  text text NOT NULL CHECK (length(btrim(text)) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text
);
CREATE UNIQUE INDEX IF NOT EXISTS intent_test_phrases_unique ON intent_test_phrases (intent_id, lower(text));
