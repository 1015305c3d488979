-- Staff accounts managed in the UI: when each last signed in, and the failed sign-ins that lock a login.
ALTER TABLE admin_users ADD COLUMN last_sign_in_at timestamptz;
UPDATE admin_users u SET last_sign_in_at =
  (SELECT max(a.at) FROM audit_log a WHERE a.login = u.login AND a.action = 'login');

-- Failed sign-ins per login as typed, whether or not such an account exists (a lock that only known logins
-- got would tell which logins exist). Counted in a window from the first failure; at the limit the login is
-- locked until locked_until or until an admin unlocks it (the row is deleted). A success deletes the row.
CREATE TABLE admin_sign_in_failures (
  login        text PRIMARY KEY,
  failures     integer NOT NULL,
  first_at     timestamptz NOT NULL,
  locked_until timestamptz
);
CREATE INDEX admin_sign_in_failures_first_at ON admin_sign_in_failures (first_at);
