import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server (npm smtp-server) for the inquiry mail tests: keeps what it receives, can stand for a
 * relay in an outage (421 to the first connections) or a mailbox that does not exist (550).
 */
export interface Received {
  to: string[];
  body: string;
}

export interface SmtpOptions {
  /** The first this many connections are answered «421 service not available», as a relay in an outage. */
  outage?: number;
  /** Recipients refused for good («550 mailbox unavailable»). */
  reject?: (address: string) => boolean;
}

/** A real SMTP server on loopback that keeps what it receives and counts the tries refused. */
export async function startSmtp(opts: SmtpOptions = {}) {
  const received: Received[] = [];
  const refused = { connections: 0, recipients: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onConnect(_session, callback) {
      if (refused.connections < (opts.outage ?? 0)) {
        refused.connections++;
        return callback(
          Object.assign(new Error('Service not available, try again later'), { responseCode: 421 }),
        );
      }
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (opts.reject?.(address.address)) {
        refused.recipients++;
        return callback(
          Object.assign(new Error('Requested action not taken: mailbox unavailable'), { responseCode: 550 }),
        );
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    received,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function decodeMail(raw: string): string {
  // nodemailer sends Cyrillic text as quoted-printable or base64; decode the body for assertions.
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split);
  const body = raw.slice(split + 4);
  if (/Content-Transfer-Encoding: base64/i.test(headers))
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => `%${hex}`);
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  }
  return body;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 15000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
