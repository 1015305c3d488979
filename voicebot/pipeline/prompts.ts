/**
 * Prompt helpers of the dialog: `{placeholder}` filling, and the shipped prompt texts (kb/seed/prompts.yaml)
 * as the fallback when the KB lacks a prompt or cannot be read — the caller always hears something sensible.
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
