-- The supervisors' quality checklist: the items a call is scored against, kept in the knowledge base so an
-- editor changes them like any other wording (YAML import/export, the admin API). `scale` items take 0..weight
-- points, `yes_no` items either their weight or nothing. A retired item stays for the scores that carry it
-- (each score keeps a copy of the items it was given) but is no longer offered. Outside the KB's revision
-- stamp: the NLU does not depend on it.
CREATE TABLE IF NOT EXISTS kb_checklist_items (
  id       text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
  title    text NOT NULL,
  kind     text NOT NULL DEFAULT 'yes_no' CHECK (kind IN ('scale', 'yes_no')),
  weight   integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100),
  position integer NOT NULL DEFAULT 0,
  retired  boolean NOT NULL DEFAULT false
);
INSERT INTO kb_checklist_items (id, title, kind, weight, position) VALUES
  ('greeting', 'Приветствие по стандарту линии', 'yes_no', 1, 1),
  ('script_followed', 'Разговор по утверждённому скрипту', 'scale', 3, 2),
  ('correct_information', 'Верная информация', 'scale', 3, 3),
  ('politeness', 'Вежливость', 'scale', 2, 4),
  ('outcome_recorded', 'Итог разговора записан', 'yes_no', 1, 5)
ON CONFLICT (id) DO NOTHING;
