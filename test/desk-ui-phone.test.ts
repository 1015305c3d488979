import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { silentLogger } from '../core/log.js';
import { CallControl } from '../telephony/call-control.js';
import { FreeswitchControl } from '../telephony/fsmrf.js';
import { queuedCall } from '../telephony/queue.js';
import { eventually } from '../telephony/testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from '../telephony/testing/fake-freeswitch.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { type DeskEnv, openDeskEnv, password } from './support/desk.js';

/**
 * A live phone call on the desk in a real browser, over the real desk API and the real CallControl on the
 * FreeSWITCH stand-in: the operator holds the caller and takes them back, transfers the call to a colleague
 * with a briefing the colleague reads on their desk, and the supervisor listens in from the wall.
 */
const KUZNETSOV = 'sip:kuznetsov@10.0.0.31';
const ORLOVA = 'sip:orlova@10.0.0.32';
const SUPERVISOR = 'sip:sidorova@10.0.0.40';
const dial = (uri: string) => `sofia/external/${uri.slice(4)}`;

describe('a live phone call on the desk and the wall (real browser)', { skip: browserMissing }, () => {
  let env: DeskEnv;
  let browser: Browser;
  let fs: FakeFreeswitch;
  let control: FreeswitchControl;
  let calls: CallControl;
  let dir: string;

  before(async () => {
    [env, browser] = await Promise.all([openDeskEnv('pglite', { phone: () => calls }), launchBrowser()]);
    env.set(Date.parse('2026-03-02T10:00:00+03:00'));
    dir = mkdtempSync(join(tmpdir(), 'otklik-desk-ui-phone-'));
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs') });
    await fs.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    for (const uri of [KUZNETSOV, ORLOVA, SUPERVISOR]) fs.dialOutcomes.set(dial(uri), 'answer');
    calls = new CallControl({
      sql: env.db.sql,
      control,
      queue: env.queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      mediaSocketUrl: undefined,
      mediaSocketSecret: undefined,
      instanceId: 'desk-ui-phone',
      trunk: 'sofia/gateway/carrier',
      forwardTimeoutMs: 20_000,
      prompts: silentPromptFiles(dir),
      now: env.now,
    });
  });

  after(async () => {
    calls?.release();
    control?.close();
    await fs?.stop();
    await browser?.close();
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(login: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(env.base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: /./ }).waitFor();
    return page;
  }

  it('holds, transfers to a colleague with a briefing, and the supervisor listens in', async () => {
    for (const [login, name, sipUri] of [
      ['kuznetsov', 'Кузнецов Д. А.', KUZNETSOV],
      ['orlova', 'Орлова М. И.', ORLOVA],
    ] as const) {
      await env.api('sidorova', 'PUT', `/api/desk/operators/${login}`, {
        name,
        login,
        sipUri,
        skills: [],
        queues: [{ queueId: 'default' }],
      });
      await env.api(login, 'PUT', '/api/desk/presence', { state: 'available' });
    }
    await env.api('orlova', 'PUT', '/api/desk/presence', { state: 'break', reason: 'обучение' });
    // A caller without the bot waits; Kuznetsov accepts on the desk and telephony bridges his phone.
    const uuid = fs.addChannel();
    const callId = randomUUID();
    await calls.handleInbound(uuid, {
      callId,
      from: '+79991234567',
      to: '122',
      startedAt: env.now(),
      channel: 'sip',
    });
    await eventually(() => queuedCall(env.db.sql, callId), 'queued');
    await calls.tick();
    assert.equal((await env.api('kuznetsov', 'POST', `/api/desk/offers/${callId}/accept`)).status, 200);
    await calls.tick();
    const kuznetsovLeg = fs.channels.get(uuid)!.bridgedTo!;
    assert.ok(kuznetsovLeg);

    const desk = await signIn('kuznetsov');
    await desk.getByRole('link', { name: 'Рабочее место' }).click();
    const card = desk.locator('#desk-conversation .conversation');
    await card.waitFor();
    await card.getByRole('button', { name: 'Удержание' }).click();
    await card.getByRole('button', { name: 'Снять с удержания' }).waitFor();
    assert.equal(fs.channels.get(kuznetsovLeg)!.held, true);
    assert.equal(await card.locator('.conv-held').innerText(), 'Абонент на удержании');
    await card.getByRole('button', { name: 'Снять с удержания' }).click();
    await card.getByRole('button', { name: 'Удержание', exact: true }).waitFor();
    assert.equal(fs.channels.get(kuznetsovLeg)!.held, false);

    // Orlova is back from her break: the colleague to pass the call to.
    await env.api('orlova', 'PUT', '/api/desk/presence', { state: 'available' });
    const form = card.locator('form.conv-transfer');
    await form.getByLabel('Куда').selectOption({ label: 'коллеге' });
    await form
      .getByLabel('Получатель')
      .locator('option', { hasText: 'Орлова М. И.' })
      .waitFor({ state: 'attached' });
    await form.getByLabel('Получатель').selectOption({ label: 'Орлова М. И.' });
    await form.getByLabel('Что передать коллеге').fill('Просит записать к неврологу');
    await form.getByRole('button', { name: 'Перевести' }).click();
    await card.waitFor({ state: 'detached' });
    assert.equal(fs.channels.get(kuznetsovLeg)!.up, false, 'Kuznetsov’s leg is released');
    assert.equal(fs.channels.get(uuid)!.up, true, 'the caller is with Orlova');

    const colleague = await signIn('orlova');
    await colleague.getByRole('link', { name: 'Рабочее место' }).click();
    const theirs = colleague.locator('#desk-conversation .conversation');
    await theirs.locator('.conv-briefings').filter({ hasText: 'Просит записать к неврологу' }).waitFor();
    assert.match(
      await theirs.locator('.conv-briefings').innerText(),
      /kuznetsov.*Просит записать к неврологу/s,
    );

    const wall = await signIn('sidorova');
    await wall.getByRole('link', { name: 'Монитор' }).click();
    const listen = wall.locator(`#wall-calls form.listen[data-call="${callId}"]`);
    await listen.getByLabel('Ваш SIP-адрес').fill(SUPERVISOR);
    await listen.getByRole('button', { name: 'Прослушать' }).click();
    await wall
      .locator('#wall-live')
      .filter({ hasText: `Звонок поступит на ${SUPERVISOR}` })
      .waitFor();
    const originate = fs.commands.filter((c) => c.includes(`&eavesdrop(${uuid})`));
    assert.equal(originate.length, 1);
    assert.ok(originate[0]!.includes(dial(SUPERVISOR)));
    fs.hangup(uuid);
  });
});
