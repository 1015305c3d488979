-- The operator desk ([3/7]): an operator row is linked to a staff account by its login (NULL for operators the
-- CLI made, who work only on their phones); an operator without a SIP URI takes chats only (phone offers skip
-- them); `desk` is true once they set their presence through the desk, so their phone offers wait for the
-- desk's accept instead of ringing the phone at once.
ALTER TABLE telephony_operators ADD COLUMN IF NOT EXISTS login text;
CREATE UNIQUE INDEX IF NOT EXISTS telephony_operators_login ON telephony_operators (login);
ALTER TABLE telephony_operators ALTER COLUMN sip_uri DROP NOT NULL;
ALTER TABLE telephony_operators ADD COLUMN IF NOT EXISTS desk boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS telephony_queue_calls_operator ON telephony_queue_calls (operator_id, state);
