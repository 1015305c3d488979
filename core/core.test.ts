import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { defaultLogLevel, loadConfig } from './config.js';
import { createLogger } from './log.js';

describe('configuration', () => {
  it('starts on the embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.http.port, 8122);
    assert.equal(config.mediaSocket.port, 8123);
    assert.equal(config.telephony.drachtioHost, undefined);
  });

  it('reads the environment, lists, and a YAML file, the environment winning over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otklik-config-'));
    try {
      const file = join(dir, 'otklik.yaml');
      writeFileSync(file, 'http:\n  port: 9000\n  host: 0.0.0.0\ntelephony:\n  queueWaitNormMs: 45000\n');
      const config = loadConfig({
        OTKLIK_CONFIG: file,
        HTTP_PORT: '9100',
        TELEPHONY_NUMBERS: '122, 78002000122',
      });
      assert.equal(config.http.port, 9100);
      assert.equal(config.http.host, '0.0.0.0');
      assert.equal(config.telephony.queueWaitNormMs, 45000);
      assert.deepEqual(config.telephony.numbers, ['122', '78002000122']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops on a bad value with a message naming the setting, its variable and what was given', () => {
    assert.throws(() => loadConfig({ HTTP_PORT: 'abc' }), {
      code: 'CONFIG_INVALID',
      message: /http\.port \(HTTP_PORT\): expected a port number 0-65535, got "abc"/,
    });
    assert.throws(
      () => loadConfig({ MEDIA_SOCKET_PORT: '70000', QUEUE_WAIT_NORM_MS: '-1' }),
      (err: Error) => {
        assert.match(err.message, /mediaSocket\.port \(MEDIA_SOCKET_PORT\)/);
        assert.match(err.message, /telephony\.queueWaitNormMs \(QUEUE_WAIT_NORM_MS\)/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ MEDIA_SOCKET_SECRET: 'short' }), {
      code: 'CONFIG_INVALID',
      message: /mediaSocket\.secret \(MEDIA_SOCKET_SECRET\): at least 16 characters/,
    });
    assert.equal(
      loadConfig({ MEDIA_SOCKET_SECRET: 'a-secret-of-enough-length' }).mediaSocket.secret,
      'a-secret-of-enough-length',
    );
    assert.throws(() => loadConfig({ OTKLIK_CONFIG: '/nonexistent/otklik.yaml' }), {
      code: 'CONFIG_INVALID',
      message: /OTKLIK_CONFIG=\/nonexistent\/otklik\.yaml: cannot read the file/,
    });
  });

  it('names the instance the same way at every start: OTKLIK_INSTANCE_ID, else host, HTTP port and data dir', () => {
    const env = { OTKLIK_DATA_DIR: '/var/lib/otklik', HTTP_PORT: '8122' };
    assert.equal(loadConfig(env).instanceId, `${hostname()}:8122:/var/lib/otklik`);
    assert.equal(loadConfig(env).instanceId, loadConfig(env).instanceId);
    assert.notEqual(loadConfig({ ...env, HTTP_PORT: '8124' }).instanceId, loadConfig(env).instanceId);
    assert.equal(loadConfig({ ...env, OTKLIK_INSTANCE_ID: 'otklik-1' }).instanceId, 'otklik-1');
  });

  it('reads first-start passwords and the libvosk path like every other setting', () => {
    const config = loadConfig({
      OTKLIK_ADMIN_PASSWORD: 'admin-pass-122',
      OTKLIK_USER_PASSWORD: 'operator-pass-1',
      VOSK_LIBRARY_PATH: '/opt/vosk/libvosk.so',
    });
    assert.deepEqual(config.staff, { adminPassword: 'admin-pass-122', newUserPassword: 'operator-pass-1' });
    assert.equal(config.speech.voskLibraryPath, '/opt/vosk/libvosk.so');
    assert.deepEqual(loadConfig({}).staff, {});
  });

  it("takes a caller's default log level only where LOG_LEVEL and the file say nothing", () => {
    const quiet = { 'log.level': defaultLogLevel.command };
    assert.equal(loadConfig({}).log.level, 'info');
    assert.equal(loadConfig({}, {}, quiet).log.level, 'warn');
    assert.equal(loadConfig({ LOG_LEVEL: 'debug' }, {}, quiet).log.level, 'debug');
  });

  it('stops on OTKLIK_TIMEZONE: the time zone is the knowledge base region', () => {
    assert.throws(() => loadConfig({ OTKLIK_TIMEZONE: 'Asia/Vladivostok' }), {
      code: 'CONFIG_INVALID',
      message: /OTKLIK_TIMEZONE is no longer read: .*`timezone:` in the KB YAML/,
    });
    const dir = mkdtempSync(join(tmpdir(), 'otklik-config-'));
    try {
      const file = join(dir, 'otklik.yaml');
      writeFileSync(file, 'timezone: Asia/Vladivostok\n');
      assert.throws(() => loadConfig({ OTKLIK_CONFIG: file }), {
        code: 'CONFIG_INVALID',
        message: /otklik\.yaml: timezone is no longer read/,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface LogLine {
  msg: string;
  callId?: string;
  pii: { phone?: string; text?: string };
}

describe('structured log', () => {
  function capture(pii?: 'masked' | 'clear'): {
    log: ReturnType<typeof createLogger>;
    lines: () => LogLine[];
  } {
    let text = '';
    const destination = new Writable({
      write(chunk, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const log = createLogger({ pii, destination });
    return {
      log,
      lines: () =>
        text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as LogLine),
    };
  }

  it('masks personal data under pii.* by default: phone keeps two digits, text only its length', () => {
    const { log, lines } = capture();
    log.info({ callId: 'c-1', pii: { phone: '+7 999 123-45-67', text: 'меня зовут Иван' } }, 'call started');
    const line = lines()[0]!;
    assert.equal(line.callId, 'c-1');
    assert.equal(line.pii.phone, '*********67');
    assert.equal(line.pii.text, '<15 chars>');
    assert.equal(line.msg, 'call started');
  });

  it('writes personal data in clear only when LOG_PII=clear chose it', () => {
    const { log, lines } = capture('clear');
    log.info({ pii: { phone: '+79991234567' } }, 'call started');
    assert.equal(lines()[0]?.pii.phone, '+79991234567');
  });
});
