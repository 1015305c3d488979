-- What a report counts of the queue and the callbacks ([5/7] reports), without personal data (no numbers, no
-- context package). Report queries of other parts read these views, never the tables.
-- telephony_report_queue: a caller's own entry in the ACD (one per call or chat; a callback's entry, the line
-- calling back at the caller's old place, is left out: the caller counts once). queue_wait_norm_ms is the
-- queue's own norm; NULL means the configured QUEUE_WAIT_NORM_MS.
CREATE OR REPLACE VIEW telephony_report_queue AS
SELECT q.call_id,
       q.queue_id,
       a.name AS queue_name,
       a.wait_norm_ms AS queue_wait_norm_ms,
       q.channel,
       q.topic_id,
       q.enqueued_at,
       q.state,
       q.wait_ms,
       q.answered_at,
       q.closed_at,
       q.talk_ms,
       q.operator_id,
       o.name AS operator_name
  FROM telephony_queue_calls q
  LEFT JOIN telephony_acd_queues a ON a.id = q.queue_id
  LEFT JOIN telephony_operators o ON o.id = q.operator_id
 WHERE q.context->>'callbackId' IS NULL;

-- telephony_report_callbacks: a callback of a call (call_id NULL: an operator's own), its attempts and outcome.
CREATE OR REPLACE VIEW telephony_report_callbacks AS
SELECT id AS callback_id, call_id, source, state, attempts, outcome, created_at, topic_id
  FROM telephony_callbacks;
