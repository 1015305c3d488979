import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { OtklikError } from '../core/errors.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { writeAudit } from './audit.js';

/** Staff accounts and their sessions; what they do is written to the audit log (audit.ts). */
export const roles = ['admin', 'supervisor', 'editor', 'approver', 'operator'] as const;
export type Role = (typeof roles)[number];

export interface StaffUser {
  login: string;
  name: string;
  role: Role;
  /** The agency (KB participant id) the account belongs to; an approver approves only its topics. */
  agency: string | null;
}

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number) => Promise<Buffer>;
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('hex')}$${key.toString('hex')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, keyHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !keyHex) return false;
  const key = await scrypt(password, Buffer.from(saltHex, 'hex'), 32);
  return timingSafeEqual(key, Buffer.from(keyHex, 'hex'));
}

/**
 * An unknown or disabled login is checked against this hash, so that it takes as long as a known login
 * with a wrong password: the response time does not tell which logins exist.
 */
let dummyHash: Promise<string> | undefined;

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

type NewUser = Omit<StaffUser, 'agency'> & { agency?: string | null; password: string };

export async function addUser(sql: Sql, user: NewUser): Promise<void> {
  if (!roles.includes(user.role)) throw new OtklikError('VALIDATION_FAILED', `unknown role "${user.role}"`);
  if (user.password.length < 8)
    throw new OtklikError('VALIDATION_FAILED', 'password must have at least 8 characters');
  const agency = user.agency?.trim() || null;
  if (agency) {
    const known = await createKnowledgeBase(sql).participants();
    if (!known.some((p) => p.id === agency)) {
      throw new OtklikError(
        'VALIDATION_FAILED',
        `unknown agency "${agency}": expected a participant id of the knowledge base (${known.map((p) => p.id).join(', ') || 'none loaded yet'})`,
      );
    }
  }
  const rows = await sql.query(
    `INSERT INTO admin_users (login, name, role, password_hash, agency) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (login) DO NOTHING RETURNING login`,
    [user.login, user.name, user.role, await hashPassword(user.password), agency],
  );
  if (rows.length === 0) throw new OtklikError('CONFLICT', `user "${user.login}" already exists`);
}

export async function countUsers(sql: Sql): Promise<number> {
  const [row] = await sql.query<{ n: number }>('SELECT count(*)::int8 AS n FROM admin_users');
  return row?.n ?? 0;
}

/**
 * Checks a password and opens a session; returns the bearer token, or null for wrong credentials. The
 * password hash is always computed (against a dummy for an unknown login), so both cost the same time.
 */
export async function login(
  sql: Sql,
  loginName: string,
  password: string,
  now: Date = new Date(),
): Promise<{ token: string; user: StaffUser } | null> {
  const [row] = await sql.query<StaffUser & { password_hash: string; disabled: boolean }>(
    'SELECT login, name, role, agency, password_hash, disabled FROM admin_users WHERE login = $1',
    [loginName],
  );
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const stored = row && !row.disabled ? row.password_hash : await dummyHash;
  const matches = await verifyPassword(password, stored);
  if (!row || row.disabled || !matches) return null;
  const token = randomBytes(24).toString('base64url');
  await sql.query('INSERT INTO admin_sessions (token_hash, login, expires_at) VALUES ($1, $2, $3)', [
    tokenHash(token),
    row.login,
    new Date(now.getTime() + SESSION_TTL_MS),
  ]);
  await sql.query('UPDATE admin_users SET last_sign_in_at = $2 WHERE login = $1', [row.login, now]);
  await writeAudit(sql, row.login, 'login');
  return { token, user: { login: row.login, name: row.name, role: row.role, agency: row.agency } };
}

export async function userByToken(
  sql: Sql,
  token: string,
  now: Date = new Date(),
): Promise<StaffUser | null> {
  const [row] = await sql.query<StaffUser>(
    `SELECT u.login, u.name, u.role, u.agency FROM admin_sessions s JOIN admin_users u ON u.login = s.login
     WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`,
    // The expiry was computed on this process's clock; compare on the same clock, not the database server's.
    [tokenHash(token), now],
  );
  return row ?? null;
}

export async function logout(sql: Sql, token: string): Promise<void> {
  await sql.query('DELETE FROM admin_sessions WHERE token_hash = $1', [tokenHash(token)]);
}

/** Ends every session of a login (disabled, or its password reset); returns how many there were. */
export async function endSessions(sql: Sql, loginName: string): Promise<number> {
  const rows = await sql.query('DELETE FROM admin_sessions WHERE login = $1 RETURNING token_hash', [
    loginName,
  ]);
  return rows.length;
}
