-- What a report counts of a call ([5/7] reports): one row per call or chat the line handled, without personal
-- data (no caller number, no turn text). Other parts' report queries read this view, never the tables
-- (ARCHITECTURE.md, one owner per table). An outbound call nobody answered (a callback or relay that did not
-- reach the citizen) is a dial attempt, not a call, and is left out, as in the daily figures (figures.ts).
-- channel: 'chat' for the web chat, 'phone' otherwise; direction: 'outgoing' for the line's own calls
-- (callbacks, relays of agencies' answers), 'incoming' otherwise. intent_id: the first intent the caller's
-- words were placed in (NULL once retention removed the turns, or when none was recognized).
CREATE OR REPLACE VIEW calls_report AS
SELECT c.id AS call_id,
       CASE WHEN c.channel = 'text' THEN 'chat' ELSE 'phone' END AS channel,
       CASE WHEN c.direction = 'outbound' THEN 'outgoing' ELSE 'incoming' END AS direction,
       c.started_at,
       c.answered_at,
       c.ended_at,
       c.outcome,
       c.sip_outcome,
       c.topic_id,
       c.operator_id,
       c.operator_name,
       (SELECT t.intent FROM call_turns t
         WHERE t.call_id = c.id AND t.who = 'caller' AND t.intent IS NOT NULL AND t.intent <> 'out_of_scope'
         ORDER BY t.seq LIMIT 1) AS intent_id,
       s.score AS survey_score
  FROM calls c
  LEFT JOIN survey_results s ON s.call_id = c.id
 WHERE c.direction IS DISTINCT FROM 'outbound' OR c.answered_at IS NOT NULL;
