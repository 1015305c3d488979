import { DEFAULT_REGION_TIMEZONE } from '../../kb/document.js';
import { normalize } from '../normalize.js';
import type { Entity } from '../types.js';
import { findDates, findTimes } from './dates.js';
import { findDigitEntities } from './digits.js';
import { findGazetteer, type GazetteerEntry } from './gazetteer.js';

export { snilsChecksumValid } from './digits.js';
export { type GazetteerEntry, gazetteerFromVocabulary } from './gazetteer.js';

export interface EntityOptions {
  /** Reference instant for relative dates; defaults to now. */
  now?: Date;
  /** Time zone of the caller's calendar (relative dates): the KB region's; the KB's own default when unset. */
  timeZone?: string;
  /** Clinic and district names from the KB (gazetteerFromVocabulary(kb.vocabulary())). */
  gazetteer?: GazetteerEntry[];
}

/**
 * Entities in an utterance, with offsets into its normalized form. Earlier kinds win overlaps: dates,
 * then times, then KB names, then digit runs (phones, СНИЛС, policies, numbers).
 */
export function extractEntities(text: string, opts: EntityOptions = {}): Entity[] {
  const normalized = normalize(text);
  const now = opts.now ?? new Date();
  const timeZone = opts.timeZone ?? DEFAULT_REGION_TIMEZONE;
  const spans: Array<[number, number]> = [];
  const taken = (start: number, end: number): boolean => spans.some(([s, e]) => start < e && s < end);
  const entities: Entity[] = [];
  const accept = (m: { type: Entity['type']; start: number; end: number; value: string | number }): void => {
    if (taken(m.start, m.end)) return;
    spans.push([m.start, m.end]);
    entities.push({
      type: m.type,
      text: normalized.slice(m.start, m.end),
      value: m.value,
      start: m.start,
      end: m.end,
    });
  };
  findDates(normalized, now, timeZone).forEach(accept);
  findTimes(normalized).forEach(accept);
  findGazetteer(normalized, opts.gazetteer ?? [], taken).forEach(accept);
  findDigitEntities(normalized, taken).forEach(accept);
  return entities.sort((a, b) => a.start - b.start);
}
