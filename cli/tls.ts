import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Config, type TlsConfig, tlsEnvMap } from '../core/config.js';
import { OtklikError } from '../core/errors.js';

/**
 * The certificates and keys of the configuration (config.tls), read once at boot by the composition root and
 * handed to the servers and clients as PEM buffers. A file that is missing, unreadable or not PEM, or a key
 * that is not the certificate's, stops start-up with a message naming the setting and the file.
 */

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export interface TlsMaterial {
  /** HTTPS for the staff UI, the API and the web chat. */
  https?: KeyPair;
  /** wss:// for the voice bot's media socket. */
  mediaSocket?: KeyPair;
  /** `otklik speech serve`; with clientCa it asks every client for a certificate signed by it. */
  speechServer?: KeyPair & { clientCa?: Buffer };
  /** The speech service's clients: the CA to trust, and their own pair for mutual TLS. */
  speechClient?: { ca: Buffer } & Partial<KeyPair>;
}

type FileKey = keyof TlsConfig;

function refuse(key: FileKey, path: string, problem: string): OtklikError {
  return new OtklikError('CONFIG_INVALID', `${tlsEnvMap[key]}=${path}: ${problem}`, {
    details: { setting: `tls.${key}`, file: path },
  });
}

function readPem(tls: TlsConfig, key: FileKey): Buffer {
  const path = tls[key]!;
  let pem: Buffer;
  try {
    pem = readFileSync(resolve(path));
  } catch (err) {
    throw refuse(
      key,
      path,
      `файл не читается / cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (!pem.includes('-----BEGIN ')) throw refuse(key, path, 'это не файл PEM / not a PEM file');
  return pem;
}

function certificate(tls: TlsConfig, key: FileKey): { pem: Buffer; x509: X509Certificate } {
  const pem = readPem(tls, key);
  try {
    return { pem, x509: new X509Certificate(pem) };
  } catch (err) {
    throw refuse(key, tls[key]!, `не сертификат X.509 / not an X.509 certificate: ${(err as Error).message}`);
  }
}

function pair(tls: TlsConfig, certKey: FileKey, keyKey: FileKey): KeyPair | undefined {
  if (!tls[certKey] || !tls[keyKey]) return undefined;
  const cert = certificate(tls, certKey);
  const key = readPem(tls, keyKey);
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw refuse(keyKey, tls[keyKey]!, `не закрытый ключ / not a private key: ${(err as Error).message}`);
  }
  if (!cert.x509.checkPrivateKey(privateKey))
    throw refuse(
      keyKey,
      tls[keyKey]!,
      `ключ не от сертификата ${tlsEnvMap[certKey]} / the key does not match the certificate ${tls[certKey]}`,
    );
  return { cert: cert.pem, key };
}

/** The client side towards a remote speech service (SPEECH_URL): undefined without SPEECH_TLS_CA_FILE. */
function speechClient(tls: TlsConfig): TlsMaterial['speechClient'] {
  if (!tls.speechCaFile) return undefined;
  const own = pair(tls, 'speechClientCertFile', 'speechClientKeyFile');
  return { ca: certificate(tls, 'speechCaFile').pem, ...(own ?? {}) };
}

export function readTlsMaterial(config: Pick<Config, 'tls'>): TlsMaterial {
  const tls = config.tls;
  const out: TlsMaterial = {};
  const https = pair(tls, 'httpsCertFile', 'httpsKeyFile');
  if (https) out.https = https;
  const media = pair(tls, 'mediaSocketCertFile', 'mediaSocketKeyFile');
  if (media) out.mediaSocket = media;
  const speech = pair(tls, 'speechCertFile', 'speechKeyFile');
  if (speech)
    out.speechServer = {
      ...speech,
      ...(tls.speechClientCaFile ? { clientCa: certificate(tls, 'speechClientCaFile').pem } : {}),
    };
  else if (tls.speechClientCaFile)
    throw refuse(
      'speechClientCaFile',
      tls.speechClientCaFile,
      'проверка клиентов требует TLS: задайте SPEECH_TLS_CERT_FILE и SPEECH_TLS_KEY_FILE / client certificates need TLS on the service',
    );
  const client = speechClient(tls);
  if (client) out.speechClient = client;
  return out;
}

/** createSpeechServices' options for a command that only uses the speech services (say, transcribe, simulate). */
export function speechClientTls(config: Pick<Config, 'tls'>): {
  clientTls?: NonNullable<TlsMaterial['speechClient']>;
} {
  const client = speechClient(config.tls);
  return client ? { clientTls: client } : {};
}
