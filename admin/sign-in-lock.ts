import type { Sql } from '../store/sql.js';

/** How many failed sign-ins a login may have before it is locked, and for how long (core/config.ts signIn). */
export interface SignInLimits {
  maxFailures: number;
  /** Failures are counted in a window of this length from the first; at the limit the login is locked this long. */
  lockoutMs: number;
}

/**
 * Failed sign-ins per login, in the store (table admin_sign_in_failures, 0327), so that every node sees the
 * same count and an admin can unlock a login. A login is counted as typed, whether or not the account
 * exists: a lock only known logins got would tell which exist.
 */

/**
 * Claims one sign-in attempt for the login before its password is checked, in one statement, so that
 * attempts sent at once cannot all pass the check before any of them is counted (a burst of guesses in
 * parallel would otherwise get past the limit). The attempt counts as a failure until `clearFailures` says
 * it succeeded; a new window starts when the last one has passed. Returns the lock's end when the login may
 * not try now: it was locked already, or more attempts than `maxFailures` are in the window (this one locks
 * it). Rows of passed windows are removed.
 */
export async function claimAttempt(
  sql: Sql,
  login: string,
  now: Date,
  limits: SignInLimits,
): Promise<{ lockedUntil: Date | null; attempt: number }> {
  const windowStart = new Date(now.getTime() - limits.lockoutMs);
  const lockEnd = new Date(now.getTime() + limits.lockoutMs);
  const [row] = await sql.query<{ locked_until: Date | null; failures: number }>(
    `INSERT INTO admin_sign_in_failures AS f (login, failures, first_at, locked_until)
     VALUES ($1, 1, $2::timestamptz, CASE WHEN 1 > $4::int THEN $5::timestamptz END)
     ON CONFLICT (login) DO UPDATE SET
       failures = CASE WHEN f.locked_until > $2::timestamptz THEN f.failures
                       WHEN f.first_at > $3::timestamptz THEN f.failures + 1 ELSE 1 END,
       first_at = CASE WHEN f.locked_until > $2::timestamptz OR f.first_at > $3::timestamptz THEN f.first_at
                       ELSE $2::timestamptz END,
       locked_until = CASE WHEN f.locked_until > $2::timestamptz THEN f.locked_until
                           WHEN f.first_at > $3::timestamptz AND f.failures + 1 > $4::int THEN $5::timestamptz END
     RETURNING locked_until, failures`,
    [login, now, windowStart, limits.maxFailures, lockEnd],
  );
  await sql.query(
    `DELETE FROM admin_sign_in_failures
      WHERE login <> $1 AND first_at <= $2 AND (locked_until IS NULL OR locked_until <= $3)`,
    [login, windowStart, now],
  );
  const until = row?.locked_until ?? null;
  return { lockedUntil: until && until > now ? until : null, attempt: row?.failures ?? 1 };
}

/**
 * The claimed attempt failed: when it was the last one the window allows, the login is locked for
 * `lockoutMs` from `now`. Returns the lock's end when this failure set it.
 */
export async function recordFailure(
  sql: Sql,
  login: string,
  attempt: number,
  now: Date,
  limits: SignInLimits,
): Promise<Date | null> {
  if (attempt < limits.maxFailures) return null;
  const [row] = await sql.query<{ locked_until: Date }>(
    `UPDATE admin_sign_in_failures SET locked_until = $2
      WHERE login = $1 AND (locked_until IS NULL OR locked_until <= $3)
      RETURNING locked_until`,
    [login, new Date(now.getTime() + limits.lockoutMs), now],
  );
  return row?.locked_until ?? null;
}

/** A successful sign-in, or an admin's unlock: the count starts again. Returns whether the login was locked. */
export async function clearFailures(sql: Sql, login: string, now: Date): Promise<boolean> {
  const rows = await sql.query<{ locked_until: Date | null }>(
    'DELETE FROM admin_sign_in_failures WHERE login = $1 RETURNING locked_until',
    [login],
  );
  return rows.some((r) => r.locked_until !== null && r.locked_until > now);
}

/** The logins locked now, with the lock's end (for the admin's list). */
export async function lockedLogins(sql: Sql, now: Date): Promise<Map<string, Date>> {
  const rows = await sql.query<{ login: string; locked_until: Date }>(
    'SELECT login, locked_until FROM admin_sign_in_failures WHERE locked_until > $1',
    [now],
  );
  return new Map(rows.map((r) => [r.login, r.locked_until]));
}
