-- An incident started together with its topic, intent and answer (the incident page's one form) waits for the
-- answer's approval: it is on the air only once that intent has an approved script (kb/incident-topic.ts).
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS awaits_intent text;
