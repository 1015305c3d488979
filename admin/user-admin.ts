import { randomInt } from 'node:crypto';
import { isOtklikError, OtklikError } from '../core/errors.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { clearFailures, lockedLogins } from './sign-in-lock.js';
import { addUser, endSessions, hashPassword, type Role, roles, type StaffUser } from './users.js';

/**
 * The admin's management of staff accounts (the «Сотрудники» page): create, change, disable and enable,
 * unlock after failed sign-ins, reset the password. Two rules keep the line manageable: an admin never
 * disables their own account, and the last active admin is neither disabled nor given another role.
 * The routes audit each act (admin/plugins/users.ts).
 */
export interface StaffAccount extends StaffUser {
  agencyName: string | null;
  disabled: boolean;
  /** Until when failed sign-ins lock the login; null when it is not locked. */
  lockedUntil: Date | null;
  lastSignInAt: Date | null;
  createdAt: Date;
}

/** A temporary password people can read out and type: no 0/O, 1/l/I; 12 characters in groups of four. */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const groups = [0, 1, 2].map(() =>
    Array.from({ length: 4 }, () => alphabet[randomInt(alphabet.length)]).join(''),
  );
  return groups.join('-');
}

function checkPassword(password: string): void {
  if (password.length < 8)
    throw new OtklikError('VALIDATION_FAILED', 'Пароль должен содержать не меньше 8 символов');
}

function checkRole(role: string): asserts role is Role {
  if (!(roles as readonly string[]).includes(role))
    throw new OtklikError('VALIDATION_FAILED', `Неизвестная роль «${role}»`);
}

/** The agency (a KB participant id) or null; refuses an id the knowledge base does not have. */
async function checkAgency(sql: Sql, agency: string | null | undefined): Promise<string | null> {
  const id = agency?.trim() || null;
  if (!id) return null;
  const known = await createKnowledgeBase(sql).participants();
  if (!known.some((p) => p.id === id)) {
    throw new OtklikError(
      'VALIDATION_FAILED',
      `Ведомства «${id}» нет в базе знаний; выберите одного из участников: ${known.map((p) => p.name).join(', ') || 'база знаний ещё не загружена'}`,
    );
  }
  return id;
}

export async function listAccounts(sql: Sql, now: Date): Promise<StaffAccount[]> {
  const [rows, participants, locked] = await Promise.all([
    sql.query<{
      login: string;
      name: string;
      role: Role;
      agency: string | null;
      disabled: boolean;
      last_sign_in_at: Date | null;
      created_at: Date;
    }>(
      'SELECT login, name, role, agency, disabled, last_sign_in_at, created_at FROM admin_users ORDER BY login',
    ),
    createKnowledgeBase(sql).participants(),
    lockedLogins(sql, now),
  ]);
  const names = new Map(participants.map((p) => [p.id, p.name]));
  return rows.map((u) => ({
    login: u.login,
    name: u.name,
    role: u.role,
    agency: u.agency,
    agencyName: (u.agency && names.get(u.agency)) || null,
    disabled: u.disabled,
    lockedUntil: locked.get(u.login) ?? null,
    lastSignInAt: u.last_sign_in_at,
    createdAt: u.created_at,
  }));
}

async function account(sql: Sql, login: string, now: Date): Promise<StaffAccount> {
  const found = (await listAccounts(sql, now)).find((a) => a.login === login);
  if (!found) throw new OtklikError('NOT_FOUND', `Учётной записи «${login}» нет`);
  return found;
}

export interface NewAccount {
  login: string;
  name: string;
  role: string;
  agency?: string | null;
  /** Unset: a password is generated and returned once. */
  password?: string;
}

/** Creates an account; returns it with the generated password (null when the admin gave one). */
export async function createAccount(
  sql: Sql,
  input: NewAccount,
  now: Date,
): Promise<{ account: StaffAccount; password: string | null }> {
  checkRole(input.role);
  const name = input.name.trim();
  if (!name) throw new OtklikError('VALIDATION_FAILED', 'Укажите ФИО сотрудника');
  if (input.password !== undefined) checkPassword(input.password);
  const agency = await checkAgency(sql, input.agency);
  const password = input.password ?? generatePassword();
  try {
    await addUser(sql, { login: input.login, name, role: input.role, agency, password });
  } catch (err) {
    if (isOtklikError(err, 'CONFLICT'))
      throw new OtklikError('CONFLICT', `Учётная запись «${input.login}» уже есть`);
    throw err;
  }
  return {
    account: await account(sql, input.login, now),
    password: input.password === undefined ? password : null,
  };
}

/** Locks the active admins' rows and refuses when `login` is the only one left (the line needs one). */
async function keepAnAdmin(tx: Sql, login: string, act: string): Promise<void> {
  const admins = await tx.query<{ login: string }>(
    "SELECT login FROM admin_users WHERE role = 'admin' AND NOT disabled ORDER BY login FOR UPDATE",
  );
  if (admins.length === 1 && admins[0]!.login === login)
    throw new OtklikError(
      'CONFLICT',
      `«${login}» — единственный действующий администратор: ${act} нельзя, сначала назначьте другого администратора`,
    );
}

export interface AccountChanges {
  name?: string;
  role?: string;
  agency?: string | null;
}

/** Changes the name, role or agency; the sessions stay (each request reads the account anew). */
export async function updateAccount(
  sql: Sql,
  login: string,
  changes: AccountChanges,
  now: Date,
): Promise<{ before: StaffAccount; account: StaffAccount }> {
  const before = await account(sql, login, now);
  if (changes.role !== undefined) checkRole(changes.role);
  const name = changes.name === undefined ? before.name : changes.name.trim();
  if (!name) throw new OtklikError('VALIDATION_FAILED', 'Укажите ФИО сотрудника');
  const agency = changes.agency === undefined ? before.agency : await checkAgency(sql, changes.agency);
  const role = (changes.role ?? before.role) as Role;
  await sql.transaction(async (tx) => {
    if (before.role === 'admin' && role !== 'admin') await keepAnAdmin(tx, login, 'сменить ему роль');
    await tx.query('UPDATE admin_users SET name = $2, role = $3, agency = $4 WHERE login = $1', [
      login,
      name,
      role,
      agency,
    ]);
  });
  return { before, account: await account(sql, login, now) };
}

/**
 * Disables (every session ends at once) or enables an account. `actor` is the admin acting: they cannot
 * disable themselves.
 */
export async function setDisabled(
  sql: Sql,
  actor: string,
  login: string,
  disabled: boolean,
  now: Date,
): Promise<{ account: StaffAccount; sessionsEnded: number }> {
  await account(sql, login, now);
  if (disabled && actor === login)
    throw new OtklikError('CONFLICT', 'Нельзя отключить собственную учётную запись');
  let sessionsEnded = 0;
  await sql.transaction(async (tx) => {
    if (disabled) await keepAnAdmin(tx, login, 'отключить его');
    await tx.query('UPDATE admin_users SET disabled = $2 WHERE login = $1', [login, disabled]);
    if (disabled) sessionsEnded = await endSessions(tx, login);
  });
  return { account: await account(sql, login, now), sessionsEnded };
}

/** Lifts the lock of failed sign-ins; returns whether the login was locked. */
export async function unlockAccount(
  sql: Sql,
  login: string,
  now: Date,
): Promise<{ account: StaffAccount; wasLocked: boolean }> {
  await account(sql, login, now);
  const wasLocked = await clearFailures(sql, login, now);
  return { account: await account(sql, login, now), wasLocked };
}

/**
 * A new temporary password (generated unless given), shown to the admin once; every session of the account
 * ends and the lock of failed sign-ins is lifted.
 */
export async function resetPassword(
  sql: Sql,
  login: string,
  now: Date,
  given?: string,
): Promise<{ account: StaffAccount; password: string; sessionsEnded: number }> {
  await account(sql, login, now);
  if (given !== undefined) checkPassword(given);
  const password = given ?? generatePassword();
  const hash = await hashPassword(password);
  let sessionsEnded = 0;
  await sql.transaction(async (tx) => {
    await tx.query('UPDATE admin_users SET password_hash = $2 WHERE login = $1', [login, hash]);
    sessionsEnded = await endSessions(tx, login);
  });
  await clearFailures(sql, login, now);
  return { account: await account(sql, login, now), password, sessionsEnded };
}
