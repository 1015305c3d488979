/**
 * Prompt helpers: `{placeholder}` filling, and the shipped prompt texts (kb/seed/prompts.yaml) as the
 * fallback when the KB lacks a prompt or cannot be read — the caller always hears something sensible.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { PromptForm } from '../../kb/types.js';

const seedFile = new URL('../../kb/seed/prompts.yaml', import.meta.url);
const lastResort = 'Извините, произошла техническая ошибка. Пожалуйста, перезвоните позже.';
let shipped: Map<string, { text: string; chat?: string }> | null = null;

function shippedPrompts(): Map<string, { text: string; chat?: string }> {
  if (shipped) return shipped;
  shipped = new Map();
  try {
    const doc = parseYaml(readFileSync(seedFile, 'utf8')) as {
      prompts?: Array<{ id: string; text: string; chat?: string }>;
    };
    for (const p of doc.prompts ?? []) shipped.set(p.id, p);
  } catch {
    // No shipped file either: every prompt falls back to the last-resort text below.
  }
  return shipped;
}

/** The shipped prompt in the form the channel needs (the written one for the chat, where it has one). */
export function fallbackPrompt(id: string, form: PromptForm = 'speech'): string {
  const p = shippedPrompts().get(id) ?? shippedPrompts().get('technical_fallback');
  if (!p) return lastResort;
  return form === 'chat' ? (p.chat ?? p.text) : p.text;
}

/** Replaces `{name}` with vars.name; unknown placeholders are dropped rather than read out. */
export function fillPrompt(text: string, vars: Record<string, string>): string {
  return text
    .replace(/\{([a-z_]+)\}/g, (_m, name: string) => vars[name] ?? '')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

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
