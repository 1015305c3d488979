import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Personal data goes under `pii.*` keys (pii.phone, pii.name, pii.text...). It is masked by default:
 * phone numbers keep the last two digits, other strings only their length. Set LOG_PII=clear only on a
 * machine where the log is itself protected as 152-FZ requires.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 2) return '*'.repeat(digits.length);
  return `${'*'.repeat(Math.max(0, digits.length - 2))}${digits.slice(-2)}`;
}

/** An IP address for the audit log: the network part only (IPv4 /16, IPv6 /48). */
export function maskIp(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.\d+\.\d+$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.*.*`;
  if (ip.includes(':')) return `${ip.split(':').slice(0, 3).join(':')}:*`;
  return '*';
}

export function maskPii(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    if (/phone|caller|number|msisdn/i.test(key)) return maskPhone(value);
    return `<${value.length} chars>`;
  }
  if (Array.isArray(value)) return value.map((v) => maskPii(v, key));
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskPii(v, k)]),
    );
  }
  return '<masked>';
}

export interface LogOptions {
  level?: string;
  /** 'masked' (default) or 'clear'. */
  pii?: 'masked' | 'clear';
  /** Where to write; defaults to stderr so that CLI output on stdout stays machine-readable. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const piiClear = opts.pii === 'clear';
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'otklik' },
      formatters: {
        log(obj) {
          if (piiClear || !('pii' in obj)) return obj;
          return { ...obj, pii: maskPii(obj.pii) };
        },
      },
    },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}

/** A logger that writes nothing, for tests and library use without a configured log. */
export const silentLogger: Logger = pino({ level: 'silent' });
