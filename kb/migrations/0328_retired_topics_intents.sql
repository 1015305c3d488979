-- Topics and intents are retired, not deleted (kb/topic-editor.ts): call records, inquiries and audit entries
-- keep naming them. A retired intent, or any intent of a retired topic, is not trained, not classified and
-- not served (kb/knowledge-base.ts leaves it out); `merged_into` names the intent a merged one's phrases went
-- to. The YAML carries both (`retired: true`, `merged_into`).
ALTER TABLE topics ADD COLUMN IF NOT EXISTS retired_at timestamptz;
ALTER TABLE intents ADD COLUMN IF NOT EXISTS retired_at timestamptz;
ALTER TABLE intents ADD COLUMN IF NOT EXISTS merged_into text;
