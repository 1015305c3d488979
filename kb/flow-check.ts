/**
 * Checks of a call flow (flow-schema.ts) beyond the shape of its fields: every step a step leads to exists in
 * the flow, step ids are unique, branch cases are values the branch can take, and, against the knowledge base
 * the flow belongs to, the prompts, menus and intents it names exist and every outcome its menus can produce
 * has a step. The KB runs them on every entry (import, seed, edit); the voice bot runs the structural part on
 * a flow it loads (parseFlow). Each message names the flow and the step: `flow "default", step "ask": …`.
 */
import { OtklikError } from '../core/errors.js';
import { type Flow, flowSchema, type Step } from './flow-schema.js';

export type IssuePath = (string | number)[];

/** A problem at `path` inside the flow document (steps[2].on.no_input). */
export interface FlowIssue {
  path: IssuePath;
  message: string;
}

/** A menu as far as a flow depends on it: its prompt and where its items lead. */
export interface MenuOutline {
  prompt: string;
  items: ReadonlyArray<{ digit: string; action: { kind: string; menu?: string; prompt?: string } }>;
}

/** What a flow may name in its knowledge base. */
export interface FlowReferences {
  prompts: ReadonlySet<string>;
  intents: ReadonlySet<string>;
  menus: ReadonlyMap<string, MenuOutline>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Who a problem at `path` is in: `flow "default"` or `flow "default", step "ask"`. */
export function flowPlace(doc: unknown, path: IssuePath): string {
  const flowId = isRecord(doc) && typeof doc.id === 'string' ? doc.id : '(no id)';
  const [section, index] = path;
  if (section !== 'steps' || typeof index !== 'number') return `flow "${flowId}"`;
  const step = isRecord(doc) && Array.isArray(doc.steps) ? doc.steps[index] : undefined;
  const stepId = isRecord(step) && typeof step.id === 'string' ? `"${step.id}"` : `at steps[${index}]`;
  return `flow "${flowId}", step ${stepId}`;
}

const issue = (doc: unknown, path: IssuePath, message: string): FlowIssue => ({
  path,
  message: `${flowPlace(doc, path)}: ${message}`,
});

/** The shape check (flowSchema): the parsed flow, or the problems, each naming its flow and step. */
export function flowShapeIssues(doc: unknown): { flow: Flow | null; issues: FlowIssue[] } {
  const parsed = flowSchema.safeParse(doc);
  if (parsed.success) {
    const flow = parsed.data;
    return { flow: { ...flow, start: flow.start ?? flow.steps[0]!.id }, issues: [] };
  }
  const issues: FlowIssue[] = [];
  for (const i of parsed.error.issues) {
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (i.code === 'unrecognized_keys') {
      for (const key of i.keys) issues.push(issue(doc, [...path, key], `unknown field "${key}"`));
    } else if (i.code === 'invalid_union' && path.at(-1) === 'type') {
      issues.push(issue(doc, path, `unknown step type ${JSON.stringify(valueAt(doc, path))}`));
    } else {
      issues.push(issue(doc, path, i.message));
    }
  }
  return { flow: null, issues };
}

function valueAt(doc: unknown, path: IssuePath): unknown {
  let v: unknown = doc;
  for (const p of path) v = isRecord(v) || Array.isArray(v) ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/** Every step a step may lead to, with the field (relative to the step) that names it. */
function targets(step: Step): Array<{ field: IssuePath; to: string }> {
  const out: Array<{ field: IssuePath; to: string }> = [];
  if ('next' in step) out.push({ field: ['next'], to: step.next });
  if ('on' in step)
    for (const [outcome, to] of Object.entries(step.on)) if (to) out.push({ field: ['on', outcome], to });
  if (step.type === 'listen')
    for (const [digit, to] of Object.entries(step.digits)) out.push({ field: ['digits', digit], to });
  if (step.type === 'branch') {
    for (const [value, to] of Object.entries(step.cases)) out.push({ field: ['cases', value], to });
    out.push({ field: ['default'], to: step.default });
  }
  return out;
}

/** The values a branch compares with, by what it branches on (intent ids are checked against the KB). */
const branchValues: Record<string, readonly string[] | null> = {
  intent: null,
  handling: ['answer', 'operator', 'forward', 'system', 'inquiry'],
  confirmation: ['needed'],
  operators_open: ['yes', 'no'],
  agency_open: ['yes', 'no'],
  answered: ['yes', 'no'],
};

/** The flow's own links: unique step ids, targets that exist, branch cases the branch can meet. */
export function flowStructureIssues(doc: unknown, flow: Flow): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const ids = new Set<string>();
  flow.steps.forEach((step, i) => {
    if (ids.has(step.id)) issues.push(issue(doc, ['steps', i, 'id'], `duplicate step id "${step.id}"`));
    ids.add(step.id);
  });
  flow.steps.forEach((step, i) => {
    for (const { field, to } of targets(step))
      if (!ids.has(to)) issues.push(issue(doc, ['steps', i, ...field], `leads to unknown step "${to}"`));
    const allowed = step.type === 'branch' ? branchValues[step.by] : null;
    if (step.type === 'branch' && allowed) {
      for (const value of Object.keys(step.cases))
        if (!allowed.includes(value))
          issues.push(
            issue(
              doc,
              ['steps', i, 'cases', value],
              `a branch by ${step.by} has no case "${value}" (its cases: ${allowed.join(', ')})`,
            ),
          );
    }
  });
  if (!ids.has(flow.start)) issues.push(issue(doc, ['start'], `unknown step "${flow.start}"`));
  for (const field of ['emergency', 'operator', 'goodbye', 'escalation'] as const) {
    const to = flow[field];
    if (to && !ids.has(to)) issues.push(issue(doc, [field], `unknown step "${to}"`));
  }
  return issues;
}

/** Fields that name a prompt: `prompt`, `greetingPrompt`, `confirmPrompt`, … */
const promptField = /^prompt$|Prompt$/;

/** The outcomes a menu's items lead to (a submenu's items included), each with the item that causes it. */
function menuOutcomes(
  menus: FlowReferences['menus'],
  id: string,
  seen = new Set<string>(),
): Array<{ outcome: string; item: string }> {
  const menu = menus.get(id);
  if (!menu || seen.has(id)) return [];
  seen.add(id);
  return menu.items.flatMap((item) => {
    const a = item.action;
    if (a.kind === 'submenu') return a.menu ? menuOutcomes(menus, a.menu, seen) : [];
    // A message item that plays the menu's own prompt repeats the menu: the step goes on, no outcome.
    if (a.kind === 'message' && a.prompt === menu.prompt) return [];
    return [{ outcome: a.kind, item: `menu "${id}" item "${item.digit}"` }];
  });
}

/**
 * What the flow names in the knowledge base: prompts it names explicitly (a step's default prompt and the
 * engine's own prompts fall back to the shipped text when the KB lacks them), the menus of its menu steps and
 * the outcomes their items produce, and the intents of its intent branches.
 */
export function flowReferenceIssues(doc: unknown, flow: Flow, refs: FlowReferences): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const prompt = (path: IssuePath, id: unknown) => {
    if (typeof id === 'string' && !refs.prompts.has(id))
      issues.push(issue(doc, path, `unknown prompt "${id}"`));
  };
  const raw = doc as { steps: Record<string, unknown>[] } & Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) if (promptField.test(key)) prompt([key], value);
  raw.steps.forEach((written, i) => {
    for (const [key, value] of Object.entries(written))
      if (promptField.test(key)) prompt(['steps', i, key], value);
  });
  flow.steps.forEach((step, i) => {
    if (step.type === 'menu') {
      if (!refs.menus.has(step.menu)) {
        issues.push(issue(doc, ['steps', i, 'menu'], `unknown menu "${step.menu}"`));
        return;
      }
      const on = step.on as Record<string, string | undefined>;
      const missing = new Map<string, string>();
      for (const { outcome, item } of menuOutcomes(refs.menus, step.menu))
        if (!on[outcome] && !missing.has(outcome)) missing.set(outcome, item);
      for (const [outcome, item] of missing)
        issues.push(
          issue(doc, ['steps', i, 'on'], `${item} leads to "${outcome}", but the step has no on.${outcome}`),
        );
    }
    if (step.type === 'branch' && step.by === 'intent') {
      for (const value of Object.keys(step.cases))
        if (!refs.intents.has(value))
          issues.push(issue(doc, ['steps', i, 'cases', value], `unknown intent "${value}"`));
    }
  });
  return issues;
}

/** Every problem of a flow document: its shape, its links, and (with `refs`) what it names in the KB. */
export function checkFlow(doc: unknown, refs?: FlowReferences): { flow: Flow | null; issues: FlowIssue[] } {
  const shape = flowShapeIssues(doc);
  if (!shape.flow) return shape;
  const issues = flowStructureIssues(doc, shape.flow);
  if (refs) issues.push(...flowReferenceIssues(doc, shape.flow, refs));
  return { flow: issues.length === 0 ? shape.flow : null, issues };
}

function fieldOf(path: IssuePath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(flow)';
}

/**
 * A flow the voice bot can run (shape and links; what it names in the KB was checked when it entered the KB).
 * Throws VALIDATION_FAILED listing every problem as `field: flow "…", step "…": message`.
 */
export function parseFlow(doc: unknown): Flow {
  const { flow, issues } = checkFlow(doc);
  if (flow) return flow;
  const lines = issues.map((i) => `  ${fieldOf(i.path)}: ${i.message}`);
  throw new OtklikError('VALIDATION_FAILED', `invalid call flow:\n${lines.join('\n')}`, {
    details: { issues: issues.map((i) => ({ field: fieldOf(i.path), message: i.message })) },
  });
}
