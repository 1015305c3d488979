-- What a report counts of an inquiry ([5/7] reports): one row per inquiry and agency, its deadlines and when
-- they were met, without personal data (no question, no callback number, no answer text). Other parts' report
-- queries read this view, never the table.
CREATE OR REPLACE VIEW inquiries_report AS
SELECT id AS inquiry_id,
       call_id,
       topic_id,
       intent_id,
       agency_id,
       status,
       received_at,
       dispatch_due_at,
       dispatched_at,
       answer_due_at,
       answered_at,
       relayed_at
  FROM inquiries;
