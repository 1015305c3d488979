import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { callbacksPlugin } from '../admin/plugins/callbacks.js';
import { adminArea } from '../admin/server.js';
import { getCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import type { CallMetadata } from '../media/call-leg.js';
import { CallControl } from '../telephony/call-control.js';
import { FreeswitchControl } from '../telephony/fsmrf.js';
import { eventually } from '../telephony/testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from '../telephony/testing/fake-freeswitch.js';
import { RecordingTts } from '../telephony/testing/tts-stand-in.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { type DeskEnv, openDeskEnv, password } from './support/desk.js';

const CITIZEN = '+79005554433';
const HOLD_MS = 20_000;
const WAIT_NORM_MS = 60_000;

/**
 * The whole way of a callback a waiting caller asked for, in one process on one PGlite store and the test's
 * clock: telephony's real call control over the FreeSWITCH stand-in (it speaks the event socket) holds the
 * caller in the queue; past the norm the caller hears the offer, presses 1 (an RFC 2833 DTMF event), hears the
 * confirmation; then an operator signs in to the desk in a real browser and finds the callback in
 * «Обратные звонки», the number masked, as the desk's HTTP API (desk and callbacks plugins) serves it.
 */
describe('a caller over the norm asks for a callback and the operator sees it on the desk (real browser)', {
  skip: browserMissing,
}, () => {
  let env: DeskEnv;
  let browser: Browser;
  let fs: FakeFreeswitch;
  let control: FreeswitchControl;
  let calls: CallControl;
  let dir: string;
  const tts = new RecordingTts();
  let prompts: ReturnType<typeof silentPromptFiles>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-desk-callback-'));
    prompts = silentPromptFiles(dir);
    [env, browser] = await Promise.all([
      openDeskEnv('pglite', {
        waitNormMs: WAIT_NORM_MS,
        plugins: ({ sql, queue, now }) => [
          adminArea(callbacksPlugin, { sql, callbacks: queue.callbacks, now }),
        ],
      }),
      launchBrowser(),
    ]);
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs'), now: () => env.now().getTime() });
    await fs.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    // An operator with a phone, offline: nobody takes the call, so the caller waits past the norm.
    await env.queue.upsertOperator({
      id: 'ivanova',
      name: 'Иванова',
      sipUri: 'sip:ivanova@10.0.0.21',
      skills: [],
    });
    await env.queue.setMember('default', 'ivanova');
    calls = new CallControl({
      sql: env.db.sql,
      control,
      queue: env.queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      promptsDir: join(dir, 'spoken'),
      mediaSocketUrl: undefined,
      mediaSocketSecret: undefined,
      instanceId: 'desk-callback-test',
      trunk: 'sofia/gateway/carrier',
      forwardTimeoutMs: 20_000,
      holdRepeatMs: HOLD_MS,
      prompts,
      tts,
      now: env.now,
    });
  });

  after(async () => {
    calls?.release();
    control?.close();
    await fs?.stop();
    await browser?.close();
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the caller hears the offer at the norm, presses 1, hears the confirmation; the desk lists the callback', async () => {
    const uuid = fs.addChannel();
    const meta: CallMetadata = {
      callId: randomUUID(),
      from: CITIZEN,
      to: '122',
      startedAt: env.now(),
      channel: 'sip',
    };
    await calls.handleInbound(uuid, meta);
    const played = () => fs.played.filter((p) => p.uuid === uuid).map((p) => p.file);
    await eventually(() => played().includes(prompts.queue_wait), 'the hold message');
    await calls.tick();
    assert.equal((await env.queue.callState(meta.callId))?.state, 'waiting');

    env.advance(HOLD_MS);
    await calls.tick();
    assert.ok(!played().includes(prompts.queue_callback_offer), 'no offer before the norm');
    env.advance(WAIT_NORM_MS - HOLD_MS + 1_000);
    await calls.tick();
    await eventually(() => played().includes(prompts.queue_callback_offer), 'the callback offer at the norm');

    fs.dtmf(uuid, '1');
    await eventually(() => !fs.channels.get(uuid)!.up, 'the call ends after the confirmation');
    assert.equal(tts.texts.at(-1), 'Мы перезвоним вам на номер +7 900 555-44-33. Оставайтесь на связи.');
    const confirmed = fs.commands.findIndex(
      (c) => c.startsWith(`uuid_broadcast ${uuid} `) && c.includes('queue_callback_registered'),
    );
    const killed = fs.commands.indexOf(`uuid_kill ${uuid} NORMAL_CLEARING`);
    assert.ok(confirmed >= 0 && killed > confirmed, 'the confirmation was played before the hang-up');
    assert.equal((await env.queue.callState(meta.callId))?.state, 'callback');
    const sip = await eventually(async () => {
      const s = (await getCall(env.db.sql, meta.callId))?.sip;
      return s?.endedAt ? s : undefined;
    }, 'the call record closed');
    assert.equal(sip.outcome, 'callback');

    // The operator opens the desk in the browser.
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(env.base);
    await page.getByLabel('Логин').fill('kuznetsov');
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: /./ }).waitFor();
    await page.getByRole('link', { name: 'Рабочее место' }).click();
    const panel = page.locator('#desk-side .callbacks');
    await panel.getByRole('heading', { name: 'Обратные звонки' }).waitFor();
    const row = panel.locator('tbody tr', { hasText: '*********33' });
    await row.waitFor();
    const text = await row.innerText();
    // An operator sees the number masked, never in clear.
    assert.ok(!text.includes('5554433') && !text.includes('555-44-33'), text);
    assert.match(text, /как можно скорее/);
    assert.match(text, /ожидает/);
    assert.match(text, /просьба звонившего/, 'key 1 is the caller’s own request');
    await page.close();
  });
});
