/** Phone numbers in the call flow: a callback number as collected, and as the bot reads it back. */

/** A phone number as the bot reads it back: +7 999 123-45-67. */
export function formatPhone(phone: string): string {
  const d = phone.replace(/\D/g, '');
  if (d.length === 11 && (d[0] === '7' || d[0] === '8')) {
    return `+7 ${d.slice(1, 4)} ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9, 11)}`;
  }
  return d.split('').join(' ');
}

/** Normalizes a collected number to +7XXXXXXXXXX when it is a Russian one; otherwise the digits. */
export function normalizePhone(digits: string): string | null {
  const d = digits.replace(/\D/g, '');
  if (d.length === 11 && (d[0] === '7' || d[0] === '8')) return `+7${d.slice(1)}`;
  if (d.length === 10 && d[0] === '9') return `+7${d}`;
  if (d.length >= 5 && d.length <= 15) return d;
  return null;
}
