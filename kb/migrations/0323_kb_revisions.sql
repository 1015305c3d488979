-- Every change of the knowledge base, with the whole KB as it stood after it (kb/revisions.ts): who, when,
-- what, and any earlier state to look at or restore.
CREATE TABLE kb_revisions (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  subject  text,
  document jsonb NOT NULL
);
CREATE INDEX kb_revisions_actor ON kb_revisions (actor, id);
