-- The call-detail records now live on the calls part's `calls` row (its migration 0103 copied them over, and
-- telephony writes them through calls/sip.ts), and every reading of a recording is audited in the admin
-- part's audit_log: telephony keeps no call table and no audit of its own.
DROP TABLE IF EXISTS telephony_calls;

-- The access audit is a 152-FZ record and must survive the upgrade. Admin's migrations all run after this
-- one (300-399), so admin cannot take the rows over itself: this one hand-over writes them into audit_log,
-- in the form admin/audit.ts writes recording access now. On a fresh database there is nothing to copy.
DO $$
BEGIN
  IF to_regclass('telephony_recording_access') IS NOT NULL AND to_regclass('audit_log') IS NOT NULL THEN
    INSERT INTO audit_log (at, login, action, object, details)
    SELECT a.at, a.user_id, 'recording.listen', a.recording_id,
           jsonb_build_object('granted', a.granted, 'reason', a.reason, 'role', a.role)
      FROM telephony_recording_access a
     ORDER BY a.id;
  END IF;
END
$$;
DROP TABLE IF EXISTS telephony_recording_access;
