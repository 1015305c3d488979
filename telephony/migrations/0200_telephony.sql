-- Telephony: call-detail records, recordings with their access audit, and the operator queue (ACD).

-- One row per call leg handled by the SIP adapter (the caller's leg; forwards and bridges are listed in legs).
CREATE TABLE telephony_calls (
  call_id      text PRIMARY KEY,
  channel_uuid text,
  direction    text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  from_number  text NOT NULL,
  to_number    text NOT NULL,
  started_at   timestamptz NOT NULL,
  answered_at  timestamptz,
  ended_at     timestamptz,
  duration_ms  bigint,
  outcome      text,
  end_reason   text,
  -- [{kind: 'bot'|'agency'|'operator'|'outbound', target, status, at}]
  legs         jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX telephony_calls_started ON telephony_calls (started_at);

CREATE TABLE telephony_recordings (
  id          text PRIMARY KEY,
  call_id     text NOT NULL,
  path        text NOT NULL,
  legs        jsonb NOT NULL DEFAULT '[]'::jsonb,
  started_at  timestamptz NOT NULL,
  duration_ms bigint,
  size_bytes  bigint,
  sha256      text,
  state       text NOT NULL DEFAULT 'recording' CHECK (state IN ('recording', 'complete', 'missing'))
);
CREATE INDEX telephony_recordings_call ON telephony_recordings (call_id);

-- Every attempt to read a recording, granted or not.
CREATE TABLE telephony_recording_access (
  id           bigserial PRIMARY KEY,
  recording_id text NOT NULL,
  user_id      text NOT NULL,
  role         text NOT NULL,
  granted      boolean NOT NULL,
  reason       text,
  at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE telephony_operators (
  id         text PRIMARY KEY,
  name       text NOT NULL,
  sip_uri    text NOT NULL,
  state      text NOT NULL DEFAULT 'offline' CHECK (state IN ('available', 'busy', 'offline')),
  skills     jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- When the operator last became available; the longest idle operator gets the next call.
  idle_since timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE telephony_queue_calls (
  call_id     text PRIMARY KEY,
  topic_id    text,
  context     jsonb NOT NULL DEFAULT '{}'::jsonb,
  enqueued_at timestamptz NOT NULL,
  state       text NOT NULL DEFAULT 'waiting'
              CHECK (state IN ('waiting', 'offered', 'answered', 'abandoned', 'callback')),
  operator_id text,
  offered_at  timestamptz,
  -- True once the call waited past the norm and was opened to any available operator.
  any_operator boolean NOT NULL DEFAULT false,
  attempts    integer NOT NULL DEFAULT 0,
  ended_at    timestamptz,
  wait_ms     bigint,
  past_norm   boolean NOT NULL DEFAULT false
);
CREATE INDEX telephony_queue_waiting ON telephony_queue_calls (state, enqueued_at);

-- Calls the queue could not reach in time: an operator calls the citizen back.
CREATE TABLE telephony_callbacks (
  call_id    text PRIMARY KEY,
  phone      text,
  topic_id   text,
  context    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL,
  state      text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed'))
);
