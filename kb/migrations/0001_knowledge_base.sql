-- The knowledge base: region settings, production calendar, schedules, participants and agencies,
-- topics, intents with training phrases, versioned answer scripts with approval, prompts, IVR menus,
-- incidents and call flows. Every content change bumps kb_meta.revision (statement triggers below),
-- so readers such as the NLU can tell that the content changed whoever made the edit.

CREATE TABLE kb_meta (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  region text NOT NULL DEFAULT '',
  timezone text NOT NULL DEFAULT 'Europe/Moscow',
  revision bigint NOT NULL DEFAULT 0,
  -- A random stamp renewed with the revision: a store rebuilt from scratch never repeats an old version.
  stamp text NOT NULL DEFAULT md5(random()::text || clock_timestamp()::text),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO kb_meta (id) VALUES (1);

CREATE TABLE calendar_days (
  day date PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('holiday', 'working_day', 'short_day')),
  title text NOT NULL DEFAULT '',
  -- For a transferred working day: the weekday whose hours it works (mon..fri); null means Monday's.
  works_as text CHECK (works_as IN ('mon', 'tue', 'wed', 'thu', 'fri'))
);

CREATE TABLE schedules (
  id text PRIMARY KEY,
  title text NOT NULL,
  always_open boolean NOT NULL DEFAULT false,
  timezone text,
  observe_calendar boolean NOT NULL DEFAULT true,
  -- {"mon": ["09:00-18:00"], ...}: intervals per weekday in the schedule's time zone.
  weekly jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE participants (
  id text PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE agencies (
  id text PRIMARY KEY,
  name text NOT NULL,
  participant_id text REFERENCES participants (id),
  forward_number text,
  contact_person text,
  email text,
  schedule_id text NOT NULL REFERENCES schedules (id)
);

CREATE TABLE topics (
  id text PRIMARY KEY
    CHECK (id IN ('health', 'military', 'refugees', 'services', 'social', 'education', 'service', 'dialog')),
  title text NOT NULL,
  agency_id text REFERENCES agencies (id),
  participant_id text REFERENCES participants (id)
);

CREATE TABLE intents (
  id text PRIMARY KEY,
  topic_id text NOT NULL REFERENCES topics (id),
  title text NOT NULL,
  handling text NOT NULL CHECK (handling IN ('answer', 'operator', 'forward', 'system'))
);

CREATE TABLE intent_phrases (
  intent_id text NOT NULL REFERENCES intents (id) ON DELETE CASCADE,
  position integer NOT NULL,
  text text NOT NULL,
  PRIMARY KEY (intent_id, position)
);

CREATE TABLE answer_versions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  intent_id text NOT NULL REFERENCES intents (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  status text NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'retired')),
  speech text NOT NULL,
  screen text NOT NULL,
  author text,
  created_at timestamptz,
  submitted_at timestamptz,
  approved_by text,
  approved_at timestamptz,
  retired_at timestamptz,
  note text,
  review_note text,
  UNIQUE (intent_id, version),
  CHECK (status <> 'approved' OR (approved_by IS NOT NULL AND approved_at IS NOT NULL))
);
-- Only one version of an intent's script is ever served.
CREATE UNIQUE INDEX answer_versions_one_approved ON answer_versions (intent_id) WHERE status = 'approved';

CREATE TABLE prompts (
  id text PRIMARY KEY,
  text text NOT NULL
);

CREATE TABLE menus (
  id text PRIMARY KEY,
  prompt_id text NOT NULL REFERENCES prompts (id)
);

CREATE TABLE menu_items (
  menu_id text NOT NULL REFERENCES menus (id) ON DELETE CASCADE,
  digit text NOT NULL CHECK (digit ~ '^[0-9*#]$'),
  position integer NOT NULL,
  label text NOT NULL,
  keywords jsonb NOT NULL DEFAULT '[]'::jsonb,
  action_kind text NOT NULL CHECK (action_kind IN ('topic', 'queue', 'forward', 'message', 'submenu')),
  -- topic id, queue name, agency id, prompt id or menu id, by action_kind (checked on import).
  action_target text NOT NULL,
  PRIMARY KEY (menu_id, digit)
);

CREATE TABLE incidents (
  id text PRIMARY KEY,
  level text NOT NULL CHECK (level IN ('federal', 'regional')),
  title text NOT NULL,
  announcement text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz,
  topic_id text REFERENCES topics (id),
  CHECK (ends_at IS NULL OR ends_at > starts_at)
);

CREATE TABLE flows (
  id text PRIMARY KEY,
  -- json (not jsonb) keeps the document's key order, so export → import → export is byte-identical.
  document json NOT NULL
);

CREATE FUNCTION kb_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE kb_meta
     SET revision = revision + 1,
         stamp = md5(random()::text || clock_timestamp()::text),
         updated_at = now()
   WHERE id = 1;
  RETURN NULL;
END;
$$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['calendar_days', 'schedules', 'participants', 'agencies', 'topics', 'intents',
    'intent_phrases', 'answer_versions', 'prompts', 'menus', 'menu_items', 'incidents', 'flows'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
      'FOR EACH STATEMENT EXECUTE FUNCTION kb_touch()', t || '_touch', t);
  END LOOP;
END;
$$;

-- Words for speech-recognition hints beyond topic and menu words: clinic, district and town names.
CREATE TABLE vocabulary (
  term text PRIMARY KEY
);
CREATE TRIGGER vocabulary_touch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vocabulary
  FOR EACH STATEMENT EXECUTE FUNCTION kb_touch();
