-- The ACD as mod_callcenter has it: queues with a strategy, wait norm and wrap-up; operators' membership with
-- tiers; operator states offline / available / break (with a reason) / offered / on_call / wrap_up; the offers
-- in flight (one row per operator rung, several for ring-all); every state change as an event for reports.

CREATE TABLE IF NOT EXISTS telephony_acd_queues (
  id             text PRIMARY KEY,
  name           text NOT NULL,
  strategy       text NOT NULL DEFAULT 'longest-idle-agent' CHECK (strategy IN (
                   'longest-idle-agent', 'round-robin', 'agent-with-least-talk-time', 'agent-with-fewest-calls',
                   'top-down', 'ring-all', 'random')),
  -- NULL: the configured QUEUE_WAIT_NORM_MS / the queue's defaults in telephony/acd/model.ts.
  wait_norm_ms   bigint CHECK (wait_norm_ms > 0),
  wrap_up_ms     bigint CHECK (wrap_up_ms >= 0),
  max_no_answer  integer CHECK (max_no_answer > 0),
  ring_timeout_ms bigint CHECK (ring_timeout_ms > 0),
  -- Round-robin's cursor: the operator offered last.
  rr_last_operator text,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO telephony_acd_queues (id, name) VALUES ('default', 'Общая очередь') ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS telephony_acd_members (
  queue_id    text NOT NULL REFERENCES telephony_acd_queues (id) ON DELETE CASCADE,
  operator_id text NOT NULL REFERENCES telephony_operators (id) ON DELETE CASCADE,
  -- Tiers for top-down (and the order of round-robin): lower level first, then lower position.
  level       integer NOT NULL DEFAULT 1,
  position    integer NOT NULL DEFAULT 1,
  PRIMARY KEY (queue_id, operator_id)
);
CREATE INDEX IF NOT EXISTS telephony_acd_members_operator ON telephony_acd_members (operator_id);

ALTER TABLE telephony_operators DROP CONSTRAINT IF EXISTS telephony_operators_state_check;
UPDATE telephony_operators SET state = 'on_call' WHERE state = 'busy';
ALTER TABLE telephony_operators ADD CONSTRAINT telephony_operators_state_check
  CHECK (state IN ('offline', 'available', 'break', 'offered', 'on_call', 'wrap_up'));
ALTER TABLE telephony_operators
  ADD COLUMN IF NOT EXISTS break_reason text,
  ADD COLUMN IF NOT EXISTS state_since timestamptz,
  ADD COLUMN IF NOT EXISTS wrap_up_until timestamptz,
  -- Offers declined or left unanswered in a row; max-no-answer of the queue puts the operator on break.
  ADD COLUMN IF NOT EXISTS no_answer_count integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS calls_answered integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS talk_ms bigint NOT NULL DEFAULT 0;

ALTER TABLE telephony_queue_calls
  ADD COLUMN IF NOT EXISTS queue_id text NOT NULL DEFAULT 'default',
  -- Higher first, then the earlier enqueued_at: a call returned from an offer keeps its place.
  ADD COLUMN IF NOT EXISTS priority integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS channel text NOT NULL DEFAULT 'phone' CHECK (channel IN ('phone', 'text')),
  ADD COLUMN IF NOT EXISTS answered_at timestamptz,
  ADD COLUMN IF NOT EXISTS closed_at timestamptz,
  ADD COLUMN IF NOT EXISTS talk_ms bigint;
CREATE INDEX IF NOT EXISTS telephony_queue_head ON telephony_queue_calls (state, priority DESC, enqueued_at, call_id);

-- The offers in flight. One operator holds at most one offer (unique index): never two calls to one operator.
CREATE TABLE IF NOT EXISTS telephony_acd_offers (
  call_id     text NOT NULL REFERENCES telephony_queue_calls (call_id) ON DELETE CASCADE,
  operator_id text NOT NULL REFERENCES telephony_operators (id) ON DELETE CASCADE,
  offered_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (call_id, operator_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS telephony_acd_offers_operator ON telephony_acd_offers (operator_id);
CREATE INDEX IF NOT EXISTS telephony_acd_offers_expiry ON telephony_acd_offers (expires_at);

CREATE TABLE IF NOT EXISTS telephony_acd_events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL,
  call_id     text,
  operator_id text,
  queue_id    text,
  -- enqueued, offered, accepted, declined, no_answer, offer_withdrawn, abandoned, callback, closed,
  -- presence (details: state, reason), wrap_up_end
  event       text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS telephony_acd_events_at ON telephony_acd_events (at);
CREATE INDEX IF NOT EXISTS telephony_acd_events_call ON telephony_acd_events (call_id);
