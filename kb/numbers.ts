import type { Sql } from '../store/sql.js';
import type { KbDocument } from './document.js';

/**
 * The numbers the line serves and the flow each runs (kb_numbers, 0331): 122 runs `default`, 117 may run
 * another flow, a number forwarded to the line its own. Telephony admits a call to any of them besides its
 * configured numbers and runs the number's flow (telephony/app.ts, call-control.ts), through the KB reader's
 * `flowForNumber`. Numbers are compared by their digits: `+7 (800) 200-01-22`, `88002000122` and
 * `sip:78002000122@host` are one number.
 */
export type ServedNumberDoc = NonNullable<KbDocument['numbers']>[number];

/**
 * A number as telephony and the KB compare it: the user part of a SIP or tel URI, digits only, and an
 * eleven-digit number with the long-distance prefix 8 read with the country code 7.
 */
export function numberDigits(number: string): string {
  const digits = number
    .trim()
    .replace(/^(sips?|tel):/i, '')
    .replace(/[@;].*$/, '')
    .replace(/\D/g, '');
  return digits.length === 11 && digits.startsWith('8') ? `7${digits.slice(1)}` : digits;
}

export const numberColumns = {
  digits: 'text',
  number: 'text',
  title: 'text',
  flow_id: 'text',
  note: 'text',
};

export function numberRow(n: ServedNumberDoc): Record<string, unknown> {
  return {
    digits: numberDigits(n.number),
    number: n.number,
    title: n.title,
    flow_id: n.flow,
    note: n.note ?? null,
  };
}

export async function readNumbers(sql: Sql): Promise<ServedNumberDoc[]> {
  const rows = await sql.query<{ number: string; title: string; flow_id: string; note: string | null }>(
    'SELECT number, title, flow_id, note FROM kb_numbers ORDER BY digits COLLATE "C"',
  );
  return rows.map((r) => ({
    number: r.number,
    title: r.title,
    flow: r.flow_id,
    ...(r.note == null ? {} : { note: r.note }),
  }));
}

/** The flow a call to `dialled` runs, or null when the KB does not list the number. */
export async function flowForNumber(sql: Sql, dialled: string): Promise<string | null> {
  const digits = numberDigits(dialled);
  if (!digits) return null;
  const [row] = await sql.query<{ flow_id: string }>('SELECT flow_id FROM kb_numbers WHERE digits = $1', [
    digits,
  ]);
  return row?.flow_id ?? null;
}
