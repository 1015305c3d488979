import type { KbDocument } from './document.js';
import { checkFlow, type FlowReferences } from './flow-check.js';
import { readsAgencyAnswer } from './flow-schema.js';
import { mergeTerms, termsFromDoc, termsIssue } from './inquiry-terms.js';
import { numberDigits } from './numbers.js';
import { weekdayOf } from './zoned-time.js';

/**
 * Checks that go beyond the shape of each item: unique ids, references between sections, calendar and
 * approval consistency, the links of call flows and what they name. Each problem names the field by its path
 * in the document.
 */
export interface DocumentIssue {
  path: (string | number)[];
  message: string;
}

export function checkReferences(doc: KbDocument): DocumentIssue[] {
  const issues: DocumentIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });

  const idsOf = <T>(section: string, items: T[], key: (item: T) => string, field = 'id'): Set<string> => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) add([section, i, field], `duplicate ${field} "${k}"`);
      seen.add(k);
    });
    return seen;
  };

  idsOf('calendar', doc.calendar, (d) => d.date, 'date');
  const schedules = idsOf('schedules', doc.schedules, (s) => s.id);
  const participants = idsOf('participants', doc.participants, (p) => p.id);
  const agencies = idsOf('agencies', doc.agencies, (a) => a.id);
  const topics = idsOf('topics', doc.topics, (t) => t.id);
  const intents = idsOf('intents', doc.intents, (t) => t.id);
  idsOf('answers', doc.answers, (a) => a.intent, 'intent');
  const prompts = idsOf('prompts', doc.prompts, (p) => p.id);
  const menus = idsOf('menus', doc.menus, (m) => m.id);
  idsOf('incidents', doc.incidents, (i) => i.id);
  const flows = idsOf('flows', doc.flows, (f) => f.id);
  doc.test_phrases?.forEach((g, i) => {
    if (!intents.has(g.intent)) add(['test_phrases', i, 'intent'], `unknown intent "${g.intent}"`);
  });
  idsOf('numbers', doc.numbers, (n) => numberDigits(n.number), 'number');
  if (doc.checklist) {
    idsOf('checklist', doc.checklist, (c) => c.id);
    if (!doc.checklist.some((c) => !c.retired))
      add(['checklist'], 'the checklist needs at least one item that is not retired');
  }

  const ref = (
    set: Set<string>,
    value: string | null | undefined,
    path: (string | number)[],
    what: string,
  ) => {
    if (value != null && !set.has(value)) add(path, `unknown ${what} "${value}"`);
  };

  doc.calendar.forEach((day, i) => {
    const weekend = ['sat', 'sun'].includes(weekdayOf(day.date));
    if (day.kind === 'working_day' && !weekend) {
      add(
        ['calendar', i, 'kind'],
        `${day.date} is a weekday: only a Saturday or Sunday can be a transferred working day`,
      );
    }
    if (day.works_as && !weekend)
      add(['calendar', i, 'works_as'], 'works_as applies only to a working weekend day');
  });
  doc.agencies.forEach((a, i) => {
    ref(participants, a.participant, ['agencies', i, 'participant'], 'participant');
    ref(schedules, a.schedule, ['agencies', i, 'schedule'], 'schedule');
  });
  doc.topics.forEach((t, i) => {
    ref(agencies, t.agency, ['topics', i, 'agency'], 'agency');
    ref(participants, t.participant, ['topics', i, 'participant'], 'participant');
  });
  doc.intents.forEach((t, i) => {
    ref(topics, t.topic, ['intents', i, 'topic'], 'topic');
    ref(intents, t.merged_into, ['intents', i, 'merged_into'], 'intent');
  });
  // What is retired (kb/topic-editor.ts) is not there for menus and flows to lead to.
  const retiredTopics = new Set(doc.topics.filter((t) => t.retired).map((t) => t.id));
  const activeTopics = new Set([...topics].filter((t) => !retiredTopics.has(t)));
  const activeIntents = new Set(
    doc.intents.filter((t) => !t.retired && !retiredTopics.has(t.topic)).map((t) => t.id),
  );
  doc.answers.forEach((a, i) => {
    ref(intents, a.intent, ['answers', i, 'intent'], 'intent');
    const versions = new Set<number>();
    let approved = 0;
    a.versions.forEach((v, j) => {
      const at = ['answers', i, 'versions', j];
      if (versions.has(v.version)) add([...at, 'version'], `duplicate version ${v.version}`);
      versions.add(v.version);
      if (v.status === 'approved') {
        approved++;
        if (approved > 1) add([...at, 'status'], `intent "${a.intent}" has more than one approved version`);
        // The approver is named: an import of approved scripts is audited with who approved them.
        if (!v.approved_by?.trim()) add([...at, 'approved_by'], 'an approved version needs approved_by');
        if (!v.approved_at) add([...at, 'approved_at'], 'an approved version needs approved_at');
      }
    });
  });
  doc.menus.forEach((m, i) => {
    ref(prompts, m.prompt, ['menus', i, 'prompt'], 'prompt');
    const digits = new Set<string>();
    m.items.forEach((item, j) => {
      const at = ['menus', i, 'items', j];
      if (digits.has(item.digit))
        add([...at, 'digit'], `digit "${item.digit}" is used twice in menu "${m.id}"`);
      digits.add(item.digit);
      const a = item.action;
      if (a.kind === 'topic') {
        if (retiredTopics.has(a.topic)) add([...at, 'action', 'topic'], `topic "${a.topic}" is retired`);
        else ref(activeTopics, a.topic, [...at, 'action', 'topic'], 'topic');
      }
      if (a.kind === 'forward') ref(agencies, a.agency, [...at, 'action', 'agency'], 'agency');
      if (a.kind === 'message') ref(prompts, a.prompt, [...at, 'action', 'prompt'], 'prompt');
      if (a.kind === 'submenu') ref(menus, a.menu, [...at, 'action', 'menu'], 'menu');
    });
  });
  // A flow's shape was checked with the document's; here its steps' links and what it names in the KB.
  const flowRefs: FlowReferences = {
    prompts,
    intents: activeIntents,
    menus: new Map(doc.menus.map((m) => [m.id, m])),
  };
  doc.flows.forEach((flow, i) => {
    for (const issue of checkFlow(flow, flowRefs).issues) add(['flows', i, ...issue.path], issue.message);
  });
  // A flow that reads an agency's answer runs only on a call the line placed itself, never for a dialled number.
  const relayFlows = new Set(doc.flows.filter(readsAgencyAnswer).map((f) => f.id));
  doc.numbers.forEach((n, i) => {
    ref(flows, n.flow, ['numbers', i, 'flow'], 'flow');
    if (relayFlows.has(n.flow))
      add(
        ['numbers', i, 'flow'],
        `flow "${n.flow}" reads an agency answer: only the line's own calls run it`,
      );
  });
  // Each agreement as it applies (the agency's fields over the region's) keeps its term within its maximum.
  const region = termsFromDoc(doc.inquiry_terms);
  const regionIssue = termsIssue(region);
  if (regionIssue) add(['inquiry_terms', regionIssue.field], regionIssue.message);
  doc.agencies.forEach((a, i) => {
    if (!a.inquiry_terms) return;
    const issue = termsIssue(mergeTerms(region, a.inquiry_terms));
    if (issue) {
      const field = a.inquiry_terms.max_amount !== undefined ? 'max_amount' : 'answer_amount';
      add(
        ['agencies', i, 'inquiry_terms', field],
        `${issue.message} (the agency's fields over the region's)`,
      );
    }
  });
  doc.incidents.forEach((inc, i) => {
    ref(topics, inc.topic, ['incidents', i, 'topic'], 'topic');
    if (inc.ends_at && Date.parse(inc.ends_at) <= Date.parse(inc.starts_at)) {
      add(['incidents', i, 'ends_at'], 'ends_at must be after starts_at');
    }
  });
  return issues;
}
