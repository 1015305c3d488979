import { Document, isMap, isScalar, visit } from 'yaml';
import { checklistYamlItems } from './checklist.js';
import type { KbDocument } from './document.js';

/**
 * Writes a document as YAML deterministically: sections in FORMAT.md order, items in the order
 * readKbDocument gives (sorted by id or date), fields in a fixed order, empty optional fields left out,
 * one line per string. So export → import → export is byte-identical.
 */
type Plain = Record<string, unknown>;

/** Copies the listed keys in order, leaving out null/undefined values unless listed in `keepNull`. */
function pick(source: object, keys: string[], keepNull: string[] = []): Plain {
  const out: Plain = {};
  for (const k of keys) {
    const v = (source as Plain)[k];
    if (v === undefined) continue;
    if (v === null && !keepNull.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

export function kbDocumentToYaml(doc: KbDocument): string {
  const plain: Plain = {
    format: doc.format,
    region: doc.region,
    timezone: doc.timezone,
    inquiry_terms: pick(
      doc.inquiry_terms,
      ['dispatch_minutes', 'answer_unit', 'answer_amount', 'cutoff', 'max_amount'],
      ['cutoff'],
    ),
    calendar: doc.calendar.map((d) => pick(d, ['date', 'kind', 'title', 'works_as'])),
    schedules: doc.schedules.map((s) => {
      const out = pick(s, ['id', 'title', 'always_open', 'timezone', 'observe_calendar']);
      if (!s.always_open || Object.keys(s.weekly).length > 0) out.weekly = s.weekly;
      return out;
    }),
    participants: doc.participants.map((p) => pick(p, ['id', 'name'])),
    agencies: doc.agencies.map((a) => {
      const out = pick(a, [
        'id',
        'name',
        'participant',
        'forward_number',
        'contact_person',
        'email',
        'schedule',
      ]);
      // An override's `cutoff: null` (no cut-off) differs from no override: keep it.
      if (a.inquiry_terms)
        out.inquiry_terms = pick(
          a.inquiry_terms,
          ['dispatch_minutes', 'answer_unit', 'answer_amount', 'cutoff', 'max_amount'],
          ['cutoff'],
        );
      return out;
    }),
    topics: doc.topics.map((t) => pick(t, ['id', 'title', 'agency', 'participant', 'retired'])),
    intents: doc.intents.map((i) =>
      pick(i, ['id', 'topic', 'title', 'handling', 'phrases', 'retired', 'merged_into']),
    ),
    answers: doc.answers.map((a) => ({
      intent: a.intent,
      versions: a.versions.map((v) =>
        pick(v, [
          'version',
          'status',
          'speech',
          'chat',
          'screen',
          'handling',
          'author',
          'created_at',
          'submitted_at',
          'approved_by',
          'approved_at',
          'retired_at',
          'note',
          'review_note',
          'returned_by',
          'returned_at',
        ]),
      ),
    })),
    prompts: doc.prompts.map((p) => pick(p, ['id', 'text', 'chat'])),
    menus: doc.menus.map((m) => ({
      id: m.id,
      prompt: m.prompt,
      items: m.items.map((i) => ({ ...pick(i, ['digit', 'label', 'keywords']), action: i.action })),
    })),
    incidents: doc.incidents.map((i) =>
      pick(
        i,
        ['id', 'level', 'title', 'announcement', 'starts_at', 'ends_at', 'topic'],
        ['ends_at', 'topic'],
      ),
    ),
    flows: doc.flows,
    numbers: doc.numbers.map((n) => pick(n, ['number', 'title', 'flow', 'note'])),
    vocabulary: doc.vocabulary,
  };
  if (doc.checklist) plain.checklist = checklistYamlItems(doc.checklist);
  if (doc.test_phrases?.length)
    plain.test_phrases = doc.test_phrases.map((g) => pick(g, ['intent', 'phrases']));
  const yaml = new Document(plain);
  // Short lists of words and menu actions read best on one line: [врач, поликлиника], { kind: topic, ... }.
  visit(yaml, {
    Seq(_key, node) {
      const scalars = node.items.every((i) => isScalar(i));
      const width = node.items.reduce<number>((n, i) => n + String(isScalar(i) ? i.value : '').length + 2, 0);
      if (scalars && node.items.length > 0 && width <= 72) node.flow = true;
    },
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === 'action' && isMap(pair.value)) pair.value.flow = true;
    },
  });
  return yaml.toString({ lineWidth: 0, minContentWidth: 0, flowCollectionPadding: true });
}
