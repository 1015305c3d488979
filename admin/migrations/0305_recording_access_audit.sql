-- Every reading of a recording is audited in audit_log now (admin/plugins/recordings.ts). The access audit that
-- telephony kept before is a 152-FZ record and must survive the upgrade: its rows are taken over here, in the
-- form admin/audit.ts writes recording access, and telephony drops its table next (0306). On a fresh database
-- there is nothing to take over.
DO $$
BEGIN
  IF to_regclass('telephony_recording_access') IS NOT NULL THEN
    INSERT INTO audit_log (at, login, action, object, details)
    SELECT a.at, a.user_id, 'recording.listen', a.recording_id,
           jsonb_build_object('granted', a.granted, 'reason', a.reason, 'role', a.role)
      FROM telephony_recording_access a
     ORDER BY a.id;
  END IF;
END
$$;
