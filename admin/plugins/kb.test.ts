import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { ensureSeeded } from '../../kb/seed.js';
import { exportKb } from '../../kb/transfer.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { signInStaff, staffRequest } from '../../test/support/staff-api.js';
import { adminArea, build } from '../server.js';
import type { TypedApp } from '../typed.js';
import { addUser } from '../users.js';
import { kbPlugin } from './kb.js';

/**
 * The knowledge editor's edits of flows and prompts through the HTTP API, on the shipped KB: an edit that
 * would break a flow is refused with every problem named (flow, step, field) and changes nothing.
 */
const password = 'пароль-для-редактора';

describe('editing call flows and prompts through the admin API', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  const tokens = new Map<string, string>();

  const request = staffRequest(() => base, tokens);

  before(async () => {
    db = await openTestDb('postgres');
    await ensureSeeded(db.sql);
    await addUser(db.sql, { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.', password });
    await addUser(db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.', password });
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(kbPlugin, { sql: db.sql })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const login of ['petrova', 'kuznetsov', 'sidorova']) {
      tokens.set(login, await signInStaff(base, login, password));
    }
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  const audited = async (action: string) =>
    (
      await db.sql.query<{ login: string; object: string }>(
        'SELECT login, object FROM audit_log WHERE action = $1 ORDER BY id',
        [action],
      )
    ).map((r) => `${r.login} ${r.object}`);

  it('refuses a flow edit whose step leads to a missing step or an unknown prompt, storing nothing', async () => {
    const before = await exportKb(db.sql);
    const { body: got } = await request('GET', '/api/kb/flows/default', 'petrova');
    const flow = structuredClone(got.flow) as { steps: Array<Record<string, unknown>> };
    const ask = flow.steps.findIndex((s) => s.id === 'ask');
    flow.steps[ask]!.prompt = 'ask_questoin';
    (flow.steps[ask]!.on as Record<string, string>).no_input = 'finsh';

    const res = await request('POST', '/api/kb/flows/default', 'petrova', flow);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.equal(
      res.body.message,
      [
        'Сценарий «default» не сохранён (2 ошибки):',
        `— сценарий «default», шаг «ask»: ведёт к шагу «finsh», которого нет в сценарии (поле flows["default"].steps[${ask}].on.no_input)`,
        `— сценарий «default», шаг «ask»: нет фразы бота «ask_questoin» (поле flows["default"].steps[${ask}].prompt)`,
      ].join('\n'),
    );
    assert.deepEqual((res.body.details as { issues: unknown[] }).issues, [
      {
        field: `flows["default"].steps[${ask}].on.no_input`,
        message: 'flow "default", step "ask": leads to unknown step "finsh"',
        text: 'сценарий «default», шаг «ask»: ведёт к шагу «finsh», которого нет в сценарии',
      },
      {
        field: `flows["default"].steps[${ask}].prompt`,
        message: 'flow "default", step "ask": unknown prompt "ask_questoin"',
        text: 'сценарий «default», шаг «ask»: нет фразы бота «ask_questoin»',
      },
    ]);
    assert.equal(await exportKb(db.sql), before);
    assert.deepEqual(await audited('flow.save'), []);
  });

  it('stores a valid flow, audited, and refuses the operator role', async () => {
    const flow = {
      title: 'Короткий сценарий',
      steps: [
        { id: 'hello', type: 'say', prompt: 'greeting', next: 'bye' },
        { id: 'bye', type: 'hangup', prompt: 'goodbye' },
      ],
    };
    const res = await request('POST', '/api/kb/flows/short', 'petrova', flow);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.flow, { id: 'short', ...flow });
    assert.deepEqual(await audited('flow.save'), ['petrova short']);
    const list = await request('GET', '/api/kb/flows', 'petrova');
    assert.ok((list.body.flows as Array<{ id: string }>).some((f) => f.id === 'short'));
    const operator = await request('POST', '/api/kb/flows/short', 'kuznetsov', flow);
    assert.equal(operator.status, 403);
    assert.equal((await request('GET', '/api/kb/flows/absent', 'petrova')).status, 404);
  });

  it('refuses to delete a prompt that a flow uses', async () => {
    const res = await request('POST', '/api/kb/prompts/goodbye/delete', 'petrova');
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    const fields = (res.body.details as { issues: Array<{ field: string; message: string }> }).issues;
    assert.ok(
      fields.some((i) => i.message === 'flow "short", step "bye": unknown prompt "goodbye"'),
      JSON.stringify(fields),
    );
    assert.match(String(res.body.message), /^Фраза бота «goodbye» не удалена: она ещё используется/);
    assert.deepEqual(await audited('prompt.delete'), []);
    const saved = await request('POST', '/api/kb/prompts/goodbye', 'petrova', { text: 'До свидания!' });
    assert.equal(saved.status, 200);
  });

  it('lists prompts and menus for readers, not for operators', async () => {
    const prompts = await request('GET', '/api/kb/prompts', 'sidorova');
    assert.equal(prompts.status, 200);
    const greeting = (prompts.body.prompts as Array<{ id: string; text: string }>).find(
      (p) => p.id === 'greeting',
    );
    assert.ok(greeting?.text, JSON.stringify(prompts.body));
    const menus = await request('GET', '/api/kb/menus', 'sidorova');
    const main = (menus.body.menus as Array<{ id: string; items: unknown[] }>).find((m) => m.id === 'main');
    assert.ok(main && main.items.length > 0);
    assert.equal((await request('GET', '/api/kb/prompts', 'kuznetsov')).status, 403);
    assert.equal((await request('GET', '/api/kb/numbers', 'kuznetsov')).status, 403);
  });

  it('adds, changes and deletes a number the line serves, audited; a missing flow is refused', async () => {
    const list = await request('GET', '/api/kb/numbers', 'sidorova');
    assert.deepEqual(list.body.numbers, [
      { number: '122', digits: '122', title: 'Единая линия 122', flow: 'default', note: null },
    ]);
    const missing = await request('POST', '/api/kb/numbers', 'petrova', { number: '117', flow: 'nope' });
    assert.equal(missing.status, 400);
    assert.equal(
      missing.body.message,
      'Номер 117 не сохранён (1 ошибка):\n— нет сценария «nope» (поле numbers["117"].flow)',
    );
    const added = await request('POST', '/api/kb/numbers', 'petrova', {
      number: '117',
      title: 'Короткий номер',
      flow: 'short',
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const twice = await request('POST', '/api/kb/numbers', 'petrova', { number: '1-1-7', flow: 'default' });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.message, 'Номер 1-1-7 уже есть в списке номеров линии');
    const supervisor = await request('POST', '/api/kb/numbers', 'sidorova', {
      number: '118',
      flow: 'default',
    });
    assert.equal(supervisor.status, 403);
    const changed = await request('POST', '/api/kb/numbers/117', 'petrova', {
      number: '8 800 200-01-17',
      flow: 'short',
      note: 'переадресация с 117',
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const numbers = (await request('GET', '/api/kb/numbers', 'petrova')).body.numbers as Array<{
      digits: string;
      flow: string;
    }>;
    assert.deepEqual(
      numbers.map((n) => `${n.digits}→${n.flow}`),
      ['122→default', '78002000117→short'],
    );
    const deleted = await request('POST', '/api/kb/numbers/78002000117/delete', 'petrova', {});
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await request('POST', '/api/kb/numbers/78002000117/delete', 'petrova', {})).status, 404);
    assert.deepEqual(await audited('number.save'), ['petrova 117', 'petrova 8 800 200-01-17']);
    assert.deepEqual(await audited('number.delete'), ['petrova 78002000117']);
  });
});
