/**
 * The secret that signs the agencies' answer links (inquiries/agency-link.ts), resolved once at start-up:
 * the configured one (ANSWER_LINK_SECRET); with the embedded store and none configured, one generated at the
 * first start into dataDir/answer-link-secret.txt (0600) and read back on later starts, so links in mails
 * already sent keep working; with PostgreSQL and none configured, no links (several nodes and the worker
 * must share one secret, so it must be configured), and a warning says so.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { AnswerLinkOptions } from '../inquiries/agency-link.js';

export const ANSWER_LINK_SECRET_FILE = 'answer-link-secret.txt';

export function answerLinkOptions(config: Config, log: Logger): AnswerLinkOptions | undefined {
  const publicUrl = config.mail.publicUrl ?? `http://${config.http.host}:${config.http.port}`;
  const graceMs = config.mail.answerLinkGraceMs;
  if (config.mail.answerLinkSecret) return { secret: config.mail.answerLinkSecret, publicUrl, graceMs };
  if (config.database.url) {
    log.warn(
      'ANSWER_LINK_SECRET is not set: with PostgreSQL the inquiry mail carries no answer link (agencies answer by replying to the mail)',
    );
    return undefined;
  }
  const file = join(config.dataDir, ANSWER_LINK_SECRET_FILE);
  let secret: string;
  if (existsSync(file)) {
    secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32)
      throw new OtklikError(
        'CONFIG_INVALID',
        `${file}: the answer link secret is shorter than 32 characters; delete the file to generate a new one (links already mailed stop working) or set ANSWER_LINK_SECRET`,
      );
  } else {
    secret = randomBytes(32).toString('base64url');
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    log.warn({ file }, "generated the secret that signs agencies' answer links");
  }
  if (!config.mail.publicUrl)
    log.warn({ publicUrl }, "OTKLIK_PUBLIC_URL is not set: answer links point at this server's own address");
  return { secret, publicUrl, graceMs };
}
