-- Recording access is audited in admin's audit_log, which took the old rows over (0305): telephony keeps no
-- audit of its own.
DROP TABLE IF EXISTS telephony_recording_access;
