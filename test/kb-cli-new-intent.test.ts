/**
 * The knowledge studio's must-show, through the real commands (../shared/contracts/cli.md) on an embedded
 * store: `otklik kb import` of the sample's own export plus a topic («ЖКХ») and an intent («Отопление») the
 * sample does not have succeeds; `otklik nlu classify` returns the new intent for a phrase it was not trained
 * on; `otklik call simulate` (a simulated call) never serves the intent's draft answer — the bot says that no
 * approved answer exists yet (`answer_unavailable`) and offers a person or an inquiry. Once an approver of the
 * topic's agency approves the draft (kb/editor.ts, the workflow the admin API runs), the same call is answered
 * with it, its version recorded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { allSchemas } from '../cli/schema.js';
import { loadConfig } from '../core/config.js';
import { createKbEditor } from '../kb/editor.js';
import { openStore } from '../store/open.js';

const root = new URL('../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'otklik-kb-new-intent-'));
const { DATABASE_URL: _url, ...env } = process.env;
const settings = {
  OTKLIK_DATA_DIR: join(work, 'data'),
  NLU_MODEL_DIR: join(work, 'nlu'),
  LOG_LEVEL: 'fatal',
};
const otklik = (args: string[], input?: string) =>
  spawnSync(process.execPath, [join(root, 'bin/otklik.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...env, ...settings },
    ...(input === undefined ? {} : { input }),
  });

const DRAFT_SPEECH =
  'Отопление в многоквартирных домах включают, когда среднесуточная температура пять дней подряд ниже восьми градусов. Если в квартире холодно, позвоните в свою управляющую компанию.';
const heatingPhrases = [
  'в квартире холодно не работает отопление',
  'когда включат отопление',
  'батареи холодные уже неделю',
  'почему не топят',
  'дома не греют батареи',
  'отопление до сих пор не дали',
  'в доме нет тепла',
  'радиаторы еле теплые',
  'когда дадут тепло в дома',
  'управляющая компания не включает отопление',
  'в подъезде и квартирах холодно отопления нет',
  'куда жаловаться что батареи не греют',
  'начало отопительного сезона когда',
  'отключили отопление в нашем доме',
  'у нас холодные радиаторы что делать',
];
const unseen = 'батареи в квартире совсем холодные когда начнут топить';

interface Simulated {
  outcome: string;
  intents: string[];
  transcript: Array<{ who: string; text: string; at_ms: number }>;
  answers: Array<{ intent: string; answer_version: string }>;
}

/** The spoken form of a shipped prompt (kb/seed/prompts.yaml): a simulated call hears prompts. */
function spokenPrompt(id: string): string {
  const doc = parse(readFileSync(join(root, 'kb/seed/prompts.yaml'), 'utf8')) as {
    prompts: Array<{ id: string; text: string; chat?: string }>;
  };
  const p = doc.prompts.find((x) => x.id === id);
  assert.ok(p, `prompt ${id} is shipped`);
  return p.text;
}

function simulate(): Simulated {
  const script = join(work, 'heating-call.yaml');
  writeFileSync(
    script,
    stringify({
      caller: '+79990001122',
      at: '2026-11-24T11:00:00+03:00',
      turns: [{ say: unseen }, { hangup: true }],
    }),
  );
  const res = otklik(['call', 'simulate', script, '--json']);
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as Simulated;
}

describe('a topic and an intent the sample lacks, imported with a draft answer (the CLI)', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('imports, classifies the new intent, never serves the draft, and serves it once approved', {
    timeout: 900_000,
  }, async () => {
    let res = otklik(['kb', 'seed']);
    assert.equal(res.status, 0, res.stderr);
    const exported = join(work, 'sample.yaml');
    res = otklik(['kb', 'export', '--out', exported]);
    assert.equal(res.status, 0, res.stderr);

    const doc = parse(readFileSync(exported, 'utf8')) as Record<string, Array<Record<string, unknown>>>;
    assert.ok(!doc.topics!.some((t) => t.id === 'housing'), 'the sample has no housing topic');
    doc.participants!.push({ id: 'minstroy', name: 'Министерство ЖКХ Энской области (учебные данные)' });
    doc.agencies!.push({
      id: 'housing_inspection',
      name: 'Государственная жилищная инспекция',
      participant: 'minstroy',
      forward_number: '+7 000 000-00-09',
      contact_person: 'Орлова Наталья Петровна (учебные данные)',
      email: 'gji@example.ru',
      schedule: 'office',
    });
    doc.topics!.push({ id: 'housing', title: 'ЖКХ', agency: 'housing_inspection', participant: 'minstroy' });
    doc.intents!.push({
      id: 'housing.heating',
      topic: 'housing',
      title: 'Отопление',
      handling: 'answer',
      phrases: heatingPhrases,
    });
    doc.answers!.push({
      intent: 'housing.heating',
      versions: [
        {
          version: 1,
          status: 'draft',
          speech: DRAFT_SPEECH,
          screen: 'Черновик: начало отопительного сезона.',
          author: 'editor.petrova',
          created_at: '2026-11-20T10:00:00+03:00',
          note: 'Новый вопрос: отопление',
        },
      ],
    });
    const file = join(work, 'kb-with-housing.yaml');
    writeFileSync(file, stringify(doc));
    res = otklik(['kb', 'import', file]);
    assert.equal(res.status, 0, res.stderr);

    res = otklik(['nlu', 'classify'], `${unseen}\nхочу записаться к терапевту\n`);
    assert.equal(res.status, 0, res.stderr);
    const [heating, doctor] = res.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { intent: string; confidence: number });
    assert.ok(!heatingPhrases.includes(unseen));
    assert.equal(heating?.intent, 'housing.heating', res.stdout);
    assert.equal(doctor?.intent, 'health.appointment', res.stdout);

    const before = simulate();
    const bot = before.transcript.filter((t) => t.who === 'bot').map((t) => t.text);
    assert.ok(before.intents.includes('housing.heating'), JSON.stringify(before));
    assert.ok(bot.includes(spokenPrompt('answer_unavailable')), bot.join('\n'));
    // A person: within the operators' hours the bot puts the call through to the operator queue.
    assert.ok(bot.includes(spokenPrompt('escalate')), bot.join('\n'));
    assert.ok(!bot.some((t) => t.includes('среднесуточная температура')), 'the draft is never said');
    assert.deepEqual(before.answers, []);

    // The approver of the topic's agency approves the draft (the author cannot).
    const sql = await openStore(loadConfig(settings), allSchemas);
    try {
      const editor = createKbEditor(sql);
      await editor.submitForApproval('housing.heating', 1, 'editor.petrova');
      await editor.approve('housing.heating', 1, { login: 'minstroy.orlova', agency: 'minstroy' });
    } finally {
      await sql.close();
    }

    const approved = simulate();
    const said = approved.transcript.filter((t) => t.who === 'bot').map((t) => t.text);
    assert.ok(said.includes(DRAFT_SPEECH), said.join('\n'));
    assert.ok(!said.includes(spokenPrompt('answer_unavailable')));
    assert.deepEqual(approved.answers, [{ intent: 'housing.heating', answer_version: 'housing.heating@v1' }]);
  });
});
