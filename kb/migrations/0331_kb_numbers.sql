-- The numbers the line serves and the call flow each runs (122, 117, numbers forwarded to the line): the
-- editors' data, like the flows themselves. `digits` is the number as a dialled number is compared with it
-- (kb/numbers.ts numberDigits: digits only, a long-distance 8 read as 7), `number` as the editor wrote it.
-- The flow is checked against the KB on entry (kb/references.ts), not by a foreign key: an import replaces
-- the flows and the numbers together. Outside the KB's revision stamp: the NLU does not depend on it.
CREATE TABLE IF NOT EXISTS kb_numbers (
  digits  text PRIMARY KEY CHECK (digits ~ '^[0-9]{2,15}$'),
  number  text NOT NULL,
  title   text NOT NULL DEFAULT '',
  flow_id text NOT NULL,
  note    text
);
