/**
 * The whole HTTP API fuzzed route by route: the real admin server (every area `otklik serve` runs, the text
 * chat included) on PostgreSQL, signed in as each role and as nobody. For every registered route and each of
 * its path, query and body parameters it sends NUL, `%00`, overlong strings, non-numeric, negative and
 * beyond-bigint ids, wrong JSON types, an empty body and invalid JSON. No answer may be a 500, and every
 * refusal must tell a person what is wrong in Russian and a program with an UPPER_SNAKE code.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RouteOptions } from 'fastify';
import { callbacksPlugin } from '../admin/plugins/callbacks.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { incidentsPlugin } from '../admin/plugins/incidents.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { kbPlugin } from '../admin/plugins/kb.js';
import { qualityPlugin } from '../admin/plugins/quality.js';
import { recordingsPlugin } from '../admin/plugins/recordings.js';
import { reportsPlugin } from '../admin/plugins/reports.js';
import { usersPlugin } from '../admin/plugins/users.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser, type Role, roles } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { OperatorQueue } from '../telephony/queue.js';
import { type DialogKnowledge, openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { testChatPlugin } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';
import { seedInquiry } from './support/inquiries.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  maxProperties?: number;
  anyOf?: Schema[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minimum?: number;
  minLength?: number;
};
interface Route {
  method: string;
  url: string;
  schema: { params?: Schema; querystring?: Schema; body?: Schema };
}
interface Probe {
  method: string;
  path: string;
  query?: string;
  /** A raw body; JSON unless `contentType` says otherwise. */
  body?: string;
  contentType?: string;
}

const password = 'пароль-для-проверки-api';
const LONG = 'я'.repeat(100_000);
// Node itself answers 431 to request heads over 16 KiB before the app sees them, so URLs get 10 000 chars.
const LONG_URL = 'a'.repeat(10_000);
const urlValues = ['%00', 'abc', '99999999999999999999', '-1', '1.5', LONG_URL, '%E0%A4%A', '%C0%80'];
const bodyValues: unknown[] = ['\u0000', LONG, '99999999999999999999', 1e20, -1, true, null, [], {}, 'abc'];
const rawBodies = ['', '{', 'null', '[]', '"строка"', '{"\\u0000":"\\u0000"}'];
/** The full set goes in as admin (past every role check); the other roles get a few of each kind. */
const full = { url: urlValues, body: bodyValues, raw: rawBodies };
const quick = { url: ['%00'], body: ['\u0000'], raw: ['{'] };

/** A value the schema accepts, so that one parameter at a time is wrong and the handler really runs. */
function sample(schema: Schema | undefined, known?: unknown): unknown {
  if (!schema) return known ?? 'Тестовое значение';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return sample(schema.anyOf[0], known);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number') return known ?? Math.max(schema.minimum ?? 1, 1);
  if (type === 'boolean') return true;
  if (type === 'object') {
    const props = Object.keys(schema.properties ?? {});
    const keep = schema.required?.length ? schema.required : props.slice(0, 1);
    return Object.fromEntries(keep.map((k) => [k, sample(schema.properties![k])]));
  }
  if (known !== undefined) return known;
  if (schema.pattern) {
    const re = new RegExp(schema.pattern);
    const fit = ['79990001122', '2026-03-02', '1', 'Тестовое значение'].find((c) => re.test(c));
    if (fit) return fit;
  }
  if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  return 'Тестовое значение текста';
}

function pathWith(url: string, params: Record<string, string>): string {
  return url.replace(/:(\w+)|\*/g, (m, name: string | undefined) => params[name ?? '*'] ?? m);
}

/** Every probe of one route: each parameter in turn gets each bad value, the others stay valid. */
function probes(route: Route, known: Record<string, string>, values: typeof full): Probe[] {
  const { method, url, schema } = route;
  const paramNames = [...url.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*');
  const params = Object.fromEntries(
    paramNames.map((n) => [n, String(sample(schema.params?.properties?.[n], known[n]))]),
  );
  const path = pathWith(url, params);
  const query = (schema.querystring ? sample(schema.querystring) : {}) as Record<string, unknown>;
  const qs = (q: Record<string, unknown>) => new URLSearchParams(q as Record<string, string>).toString();
  const hasBody = method !== 'GET' && method !== 'DELETE';
  const body = hasBody ? JSON.stringify(schema.body ? sample(schema.body) : {}) : undefined;
  const base = { method, path, query: qs(query), ...(body !== undefined ? { body } : {}) };
  const out: Probe[] = [base];
  for (const name of paramNames)
    for (const v of values.url) out.push({ ...base, path: pathWith(url, { ...params, [name]: v }) });
  for (const name of [...Object.keys(schema.querystring?.properties ?? {}), 'extra'])
    for (const v of values.url) out.push({ ...base, query: `${qs(query)}&${name}=${v}` });
  if (hasBody) {
    const valid = (schema.body ? sample(schema.body) : {}) as Record<string, unknown>;
    for (const name of [...Object.keys(schema.body?.properties ?? {}), 'extra']) {
      const rest = schema.body?.maxProperties === 1 ? {} : valid;
      for (const v of values.body) out.push({ ...base, body: JSON.stringify({ ...rest, [name]: v }) });
    }
    for (const raw of values.raw) out.push({ ...base, body: raw });
    out.push({ ...base, body: 'не JSON', contentType: 'text/plain' });
  }
  return out;
}

describe('API fuzz: bad input on every route gets a clear 4xx, never a 500', () => {
  let db: TestDb;
  let engine: DialogKnowledge;
  let modelDir: string;
  let app: TypedApp;
  let base: string;
  const routes: Route[] = [];
  const tokens = new Map<Role, string>();

  before(async () => {
    db = await openTestDb('postgres');
    modelDir = mkdtempSync(join(tmpdir(), 'otklik-fuzz-nlu-'));
    engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir });
    for (const role of roles) await addUser(db.sql, { login: `fuzz-${role}`, role, name: role, password });
    const sql = db.sql;
    app = await build({
      sql,
      log: silentLogger,
      onRoute: (r: RouteOptions) => {
        for (const method of [r.method].flat())
          if (method !== 'HEAD' && !r.websocket)
            routes.push({ method, url: r.url, schema: (r.schema ?? {}) as Route['schema'] });
      },
      plugins: [
        adminArea(kbPlugin, { sql }),
        adminArea(usersPlugin, { sql }),
        adminArea(incidentsPlugin, { sql }),
        adminArea(callsPlugin, {
          sql,
          queue: new OperatorQueue(sql, { waitNormMs: 60_000 }),
          health: async () => ({}),
          timeZone: engine.kb.timezone,
        }),
        adminArea(inquiriesPlugin, { sql }),
        adminArea(recordingsPlugin, { sql }),
        adminArea(reportsPlugin, { sql, timeZone: engine.kb.timezone }),
        adminArea(qualityPlugin, { sql, timeZone: engine.kb.timezone }),
        adminArea(callbacksPlugin, {
          sql,
          callbacks: new OperatorQueue(sql, { waitNormMs: 60_000 }).callbacks,
        }),
        testChatPlugin({ kb: engine.kb, nlu: engine.nlu, sql }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const role of roles) {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: `fuzz-${role}`, password }),
      });
      tokens.set(role, ((await res.json()) as { token: string }).token);
    }
  });
  after(async () => {
    await app?.close();
    await engine?.close();
    await db?.drop();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  /** Valid path parameters of a route: a live chat (also a call), a registered inquiry, a seeded answer. */
  async function knownParams(route: Route): Promise<Record<string, string>> {
    const known: Record<string, string> = { intentId: 'health.appointment', version: '1', '*': 'index.html' };
    if (route.url.startsWith('/api/chat/') || route.url.startsWith('/api/calls/')) {
      const res = await fetch(`${base}/api/chat/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      known.id = ((await res.json()) as { id: string }).id;
    } else if (route.url.startsWith('/api/inquiries/')) {
      known.id = String(
        await seedInquiry(db.sql, {
          question: 'Когда выплатят пособие?',
          receivedAt: new Date('2026-11-24T11:00:00+03:00'),
        }),
      );
    }
    return known;
  }

  async function send(p: Probe, token: string | undefined) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (p.body !== undefined) headers['content-type'] = p.contentType ?? 'application/json';
    const res = await fetch(`${base}${p.path}${p.query ? `?${p.query}` : ''}`, {
      method: p.method,
      headers,
      ...(p.body !== undefined ? { body: p.body } : {}),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }

  /** What is wrong with one answer, or null when it is acceptable. */
  function problem(r: { status: number; type: string; text: string }): string | null {
    if (r.status >= 500) return `status ${r.status}`;
    if (r.status < 400) return null;
    if (!r.type.startsWith('application/json')) return `${r.status} with ${r.type || 'no'} content type`;
    let body: { code?: unknown; message?: unknown };
    try {
      body = JSON.parse(r.text);
    } catch {
      return `${r.status} with a body that is not JSON`;
    }
    if (typeof body.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(body.code))
      return `${r.status} without a code`;
    if (typeof body.message !== 'string' || !/[А-Яа-яЁё]/.test(body.message))
      return `${r.status} ${body.code} without a Russian message: ${String(body.message).slice(0, 120)}`;
    return null;
  }

  it('every route, every parameter, every role', async () => {
    assert.ok(routes.length >= 20, `routes found: ${routes.map((r) => r.url).join(', ')}`);
    const failures: string[] = [];
    let sent = 0;
    const callers: Array<Role | null> = [null, ...roles];
    for (const route of routes) {
      const known = await knownParams(route);
      const all = probes(route, known, full);
      const few = probes(route, known, quick);
      for (const who of callers) {
        // Signing out would end the role's session for the routes after this one.
        const token = who && route.url !== '/api/auth/logout' ? tokens.get(who) : undefined;
        // Only a signed-in staff member reaches the handlers behind the role check; others see the door.
        const batch = who === 'admin' ? all : few;
        for (let i = 0; i < batch.length; i += 16) {
          const results = await Promise.all(batch.slice(i, i + 16).map((p) => send(p, token)));
          results.forEach((r, k) => {
            const p = batch[i + k]!;
            const bad = problem(r);
            if (bad)
              failures.push(
                `${who ?? 'anonymous'} ${p.method} ${p.path.slice(0, 80)}?${(p.query ?? '').slice(0, 60)} ` +
                  `${(p.body ?? '').slice(0, 60)} → ${bad} ${r.text.slice(0, 160)}`,
              );
          });
          sent += results.length;
        }
      }
    }
    assert.ok(sent > 1000, `probes sent: ${sent}`);
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${sent} answers are wrong:\n${failures.slice(0, 60).join('\n')}`,
    );
  });
});
