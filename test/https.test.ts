/**
 * Encryption where traffic leaves the host, through the real `otklik serve` (a child process, as a user starts
 * it) with a self-signed certificate made here by openssl: the staff API over HTTPS (a request and a sign-in
 * with the certificate trusted), the web chat's WebSocket over wss:// on the same port, the media socket over
 * wss:// in mod_audio_fork's framing; plain HTTP and plain ws:// to them fail. A missing or unreadable
 * certificate file stops start-up with a message naming the setting.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FsClient } from '../voicebot/channels/media/fs-client.js';
import { makeSelfSignedCert, type TestCert } from './support/certs.js';
import { embeddedEnv, runCli, type ServeProcess, startServe } from './support/serve.js';

const SECRET = 'https-test-media-secret';

interface Answer {
  status: number;
  body: string;
}

function httpsCall(
  url: string,
  ca: Buffer,
  opts: { method?: string; body?: unknown; token?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpsRequest(
      url,
      {
        method: opts.method ?? 'GET',
        ca,
        headers: {
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function plainHttp(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: '' }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('otklik serve over HTTPS and wss://', () => {
  let dir: string;
  let cert: TestCert;
  let serve: ServeProcess;
  let mediaPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-https-'));
    cert = makeSelfSignedCert(dir);
    // A trained model is kept between runs: the test is about encryption, not about training the NLU.
    const nluDir = join(tmpdir(), 'otklik-test-https-nlu');
    mkdirSync(nluDir, { recursive: true });
    serve = await startServe({
      ...embeddedEnv(join(dir, 'data')),
      NLU_MODEL_DIR: nluDir,
      HTTPS_CERT_FILE: cert.certFile,
      HTTPS_KEY_FILE: cert.keyFile,
      MEDIA_SOCKET_TLS_CERT_FILE: cert.certFile,
      MEDIA_SOCKET_TLS_KEY_FILE: cert.keyFile,
      MEDIA_SOCKET_SECRET: SECRET,
      SMTP_URL: '',
    });
    const m = /медиасокет wss:\/\/[\d.]+:(\d+)/.exec(serve.stderr());
    assert.ok(m, `serve names its media socket as wss://: ${serve.stderr()}`);
    mediaPort = Number(m[1]);
  });
  after(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API over HTTPS: health, a sign-in and a staff request with the CA trusted', async () => {
    assert.match(serve.base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsCall(`${serve.base}/api/health`, cert.cert);
    assert.equal(health.status, 200);
    assert.ok(['ok', 'degraded'].includes(JSON.parse(health.body).status));

    const login = await httpsCall(`${serve.base}/api/auth/login`, cert.cert, {
      method: 'POST',
      body: { login: 'admin', password: 'admin-pass-122' },
    });
    assert.equal(login.status, 200, login.body);
    const { token } = JSON.parse(login.body) as { token: string };
    assert.ok(token);
    const staffHealth = await httpsCall(`${serve.base}/api/health`, cert.cert, { token });
    assert.ok(JSON.parse(staffHealth.body).components, 'a signed-in staff member sees the components');
    const wrong = await httpsCall(`${serve.base}/api/auth/login`, cert.cert, {
      method: 'POST',
      body: { login: 'admin', password: 'wrong' },
    });
    assert.equal(wrong.status, 401);
    const page = await httpsCall(`${serve.base}/`, cert.cert);
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
  });

  it('does not answer plain HTTP on its port, nor a client that does not trust the certificate', async () => {
    const plainUrl = serve.base.replace('https://', 'http://');
    await assert.rejects(plainHttp(`${plainUrl}/api/health`));
    const stranger = makeSelfSignedCert(dir, 'stranger');
    await assert.rejects(httpsCall(`${serve.base}/api/health`, stranger.cert), /self[- ]signed|certificate/i);
  });

  it('runs the web chat over wss:// on the same port', async () => {
    const ws = new WebSocket(`${serve.base.replace('https://', 'wss://')}/api/chat/ws`, { ca: cert.cert });
    const messages: Array<{ type: string }> = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'start' }));
    const deadline = Date.now() + 20_000;
    while (!messages.some((m) => m.type === 'bot') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      messages.some((m) => m.type === 'started'),
      JSON.stringify(messages),
    );
    assert.ok(
      messages.some((m) => m.type === 'bot'),
      'the bot greets the citizen over wss://',
    );
    ws.close();
  });

  it('takes an audio fork over wss:// (mod_audio_fork framing) and refuses plain ws://', async () => {
    const call = await FsClient.connect({
      url: `wss://127.0.0.1:${mediaPort}`,
      ca: cert.cert,
      secret: SECRET,
      metadata: { callId: 'https-test-call', from: '+79990001122', to: '122' },
    });
    assert.ok(await call.waitFor((e) => e.type === 'playAudio', 20_000), 'the caller hears the bot');
    await call.hangup();
    await assert.rejects(
      FsClient.connect({ url: `ws://127.0.0.1:${mediaPort}`, secret: SECRET, metadata: { callId: 'plain' } }),
      /cannot reach the media socket/,
    );
  });
});

describe('otklik serve: certificate settings at boot', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-https-boot-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stops when a certificate file cannot be read, naming the setting and the file', async () => {
    // The other refusals (half a pair, not PEM, a key of another certificate) are cli/tls.test.ts's.
    const cert = makeSelfSignedCert(dir);
    const missing = join(dir, 'no-such.key');
    const gone = await runCli(['serve'], {
      ...embeddedEnv(join(dir, 'data')),
      HTTP_PORT: '0',
      MEDIA_SOCKET_PORT: '0',
      HTTPS_CERT_FILE: cert.certFile,
      HTTPS_KEY_FILE: missing,
    });
    assert.equal(gone.code, 78, gone.stderr);
    assert.ok(gone.stderr.includes(`HTTPS_KEY_FILE=${missing}`), gone.stderr);
    assert.match(gone.stderr, /файл не читается \/ cannot read the file \(ENOENT\)/);
  });
});
