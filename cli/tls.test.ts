import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../core/config.js';
import { isOtklikError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { startSpeechServer } from '../speech/grpc/server.js';
import { createSpeechServices } from '../speech/services.js';
import { makeSelfSignedCert, type TestCert } from '../test/support/certs.js';
import { readTlsMaterial, speechClientTls } from './tls.js';

/** The certificate settings: both files of a pair or neither, each readable PEM, the key the certificate's. */
describe('TLS material read at boot', () => {
  let dir: string;
  let a: TestCert;
  let b: TestCert;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-tls-'));
    a = makeSelfSignedCert(dir, 'a');
    b = makeSelfSignedCert(dir, 'b');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = (env: Record<string, string>): string => {
    try {
      readTlsMaterial(loadConfig(env));
    } catch (err) {
      assert.ok(isOtklikError(err, 'CONFIG_INVALID'), String(err));
      return err.message;
    }
    return assert.fail('expected a refusal');
  };

  it('reads nothing without settings: plain HTTP, ws:// and plaintext gRPC', () => {
    assert.deepEqual(readTlsMaterial(loadConfig({})), {});
    assert.deepEqual(speechClientTls(loadConfig({})), {});
  });

  it('reads each pair, the client CA and the speech client side', () => {
    const m = readTlsMaterial(
      loadConfig({
        HTTPS_CERT_FILE: a.certFile,
        HTTPS_KEY_FILE: a.keyFile,
        MEDIA_SOCKET_TLS_CERT_FILE: b.certFile,
        MEDIA_SOCKET_TLS_KEY_FILE: b.keyFile,
        SPEECH_TLS_CERT_FILE: a.certFile,
        SPEECH_TLS_KEY_FILE: a.keyFile,
        SPEECH_TLS_CLIENT_CA_FILE: b.certFile,
        SPEECH_TLS_CA_FILE: a.certFile,
        SPEECH_TLS_CLIENT_CERT_FILE: b.certFile,
        SPEECH_TLS_CLIENT_KEY_FILE: b.keyFile,
      }),
    );
    assert.deepEqual(m.https, { cert: a.cert, key: a.key });
    assert.deepEqual(m.mediaSocket, { cert: b.cert, key: b.key });
    assert.deepEqual(m.speechServer, { cert: a.cert, key: a.key, clientCa: b.cert });
    assert.deepEqual(m.speechClient, { ca: a.cert, cert: b.cert, key: b.key });
    assert.deepEqual(speechClientTls(loadConfig({ SPEECH_TLS_CA_FILE: a.certFile })), {
      clientTls: { ca: a.cert },
    });
  });

  it('refuses half a pair at configuration, naming the missing variable (Russian and English)', () => {
    for (const [given, missing] of [
      ['HTTPS_CERT_FILE', 'HTTPS_KEY_FILE'],
      ['HTTPS_KEY_FILE', 'HTTPS_CERT_FILE'],
      ['MEDIA_SOCKET_TLS_CERT_FILE', 'MEDIA_SOCKET_TLS_KEY_FILE'],
      ['SPEECH_TLS_KEY_FILE', 'SPEECH_TLS_CERT_FILE'],
      ['SPEECH_TLS_CLIENT_CERT_FILE', 'SPEECH_TLS_CLIENT_KEY_FILE'],
    ] as const) {
      const message = refusal({ [given]: a.certFile, SPEECH_TLS_CA_FILE: a.certFile });
      assert.match(message, new RegExp(`\\(${missing}\\): не задан, а ${given} задан`), message);
      assert.match(message, /required together with/);
    }
    assert.match(
      refusal({ SPEECH_TLS_CLIENT_CERT_FILE: a.certFile, SPEECH_TLS_CLIENT_KEY_FILE: a.keyFile }),
      /SPEECH_TLS_CA_FILE.*взаимного TLS/,
    );
  });

  it('refuses an unreadable file, a file that is not PEM and a key of another certificate', () => {
    const missing = join(dir, 'missing.crt');
    assert.match(
      refusal({ HTTPS_CERT_FILE: missing, HTTPS_KEY_FILE: a.keyFile }),
      new RegExp(`HTTPS_CERT_FILE=${missing}: файл не читается / cannot read the file \\(ENOENT\\)`),
    );
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    assert.match(refusal({ SPEECH_TLS_CA_FILE: junk }), /SPEECH_TLS_CA_FILE=.*не файл PEM \/ not a PEM file/);
    assert.match(refusal({ HTTPS_CERT_FILE: a.keyFile, HTTPS_KEY_FILE: a.keyFile }), /не сертификат X\.509/);
    assert.match(refusal({ HTTPS_CERT_FILE: a.certFile, HTTPS_KEY_FILE: a.certFile }), /не закрытый ключ/);
    assert.match(
      refusal({ MEDIA_SOCKET_TLS_CERT_FILE: a.certFile, MEDIA_SOCKET_TLS_KEY_FILE: b.keyFile }),
      /MEDIA_SOCKET_TLS_KEY_FILE=.*ключ не от сертификата MEDIA_SOCKET_TLS_CERT_FILE/,
    );
    assert.match(
      refusal({ SPEECH_TLS_CLIENT_CA_FILE: a.certFile }),
      /SPEECH_TLS_CLIENT_CA_FILE=.*требует TLS/,
    );
  });

  it('gives serve and the CLI commands their TLS client to a remote speech service (SPEECH_URL)', async () => {
    const local = await createSpeechServices(
      loadConfig({}, { 'speech.cacheDir': join(dir, 'tts') }),
      silentLogger,
    );
    const server = await startSpeechServer({
      services: local,
      listen: '127.0.0.1:0',
      log: silentLogger,
      tls: { cert: a.cert, key: a.key },
    });
    try {
      const config = loadConfig({ SPEECH_URL: server.address, SPEECH_TLS_CA_FILE: a.certFile });
      const remote = await createSpeechServices(config, silentLogger, speechClientTls(config));
      try {
        let samples = 0;
        for await (const chunk of remote.tts.synthesize('Добрый день.', { sampleRate: 8000 }))
          samples += chunk.audio.samples.length;
        assert.ok(samples > 2000, `speech over TLS, got ${samples} samples`);
      } finally {
        await remote.close();
      }
      // Configured for TLS but given no certificate: refused, never plaintext by mistake.
      await assert.rejects(createSpeechServices(config, silentLogger), { code: 'CONFIG_INVALID' });
    } finally {
      await server.close(1000);
      await local.close();
    }
  });
});
