-- The call records (one per call, any channel), written as the call goes: a crash loses nothing that was said.
-- Caller numbers and caller text are personal data (152-FZ): access goes through the admin part's roles.

CREATE TABLE calls (
  id            text PRIMARY KEY,
  channel       text NOT NULL CHECK (channel IN ('sip', 'media', 'text', 'simulator')),
  caller_number text,
  dialled_number text NOT NULL DEFAULT '122',
  started_at    timestamptz NOT NULL,
  ended_at      timestamptz,
  outcome       text CHECK (outcome IN ('answered', 'escalated', 'forwarded', 'inquiry', 'emergency', 'abandoned', 'hangup')),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'interrupted')),
  flow_id       text,
  topic_id      text
);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_active ON calls (status) WHERE status = 'active';

-- One row per utterance or key press, inserted the moment it happens.
CREATE TABLE call_turns (
  call_id        text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  seq            integer NOT NULL,
  who            text NOT NULL CHECK (who IN ('caller', 'bot', 'operator')),
  text           text NOT NULL,
  at_ms          bigint NOT NULL,
  intent         text,
  confidence     double precision,
  answer_version text,
  dtmf           text,
  PRIMARY KEY (call_id, seq)
);

-- Calls handed to people, with everything the operator needs to see; the operator queue consumes them.
CREATE TABLE escalations (
  id          bigserial PRIMARY KEY,
  call_id     text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  reason      text NOT NULL,
  topic_id    text,
  -- {callerNumber, topic, intents: [{intent, confidence, at_ms}], entities, transcript: [{who, text, at_ms}], answers}
  context     jsonb NOT NULL,
  status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'taken', 'abandoned', 'done')),
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escalations_queued ON escalations (status, created_at);

CREATE TABLE survey_results (
  call_id  text PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
  score    smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
  at       timestamptz NOT NULL
);
