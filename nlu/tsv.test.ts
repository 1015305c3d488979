import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { createRng } from '../core/prng.js';
import { crossValidate, formatReport, trainAndEvaluate } from './evaluate.js';
import type { LabeledText } from './train.js';
import { parseLabeledTsv } from './tsv.js';

function rejects(content: string, pattern: RegExp): void {
  assert.throws(
    () => parseLabeledTsv(content, 'bad.tsv'),
    (err: unknown) => isOtklikError(err, 'VALIDATION_FAILED') && pattern.test(err.message),
  );
}

describe('labeled TSV', () => {
  it('reads rows in either column order, with BOM and CRLF', () => {
    const rows = parseLabeledTsv('\uFEFFintent\ttext\r\nfoo\tпривет мир\r\nbar\tпока\r\n\r\n');
    assert.deepEqual(rows, [
      { text: 'привет мир', label: 'foo' },
      { text: 'пока', label: 'bar' },
    ]);
  });

  it('rejects a header without the needed columns', () => {
    rejects('phrase\tlabel\nпривет\tfoo\n', /^bad\.tsv:1: .*"text" and "intent"/);
  });

  it('rejects a row with a missing column, naming its line', () => {
    rejects(
      'text\tintent\nпривет\tfoo\nбез метки\nпока\tbar\n',
      /^bad\.tsv:3: expected 2 tab-separated columns, found 1/,
    );
  });

  it('rejects an empty text or label, naming its line', () => {
    rejects('text\tintent\nпривет\tfoo\n\tbar\n', /^bad\.tsv:3: the text is empty/);
    rejects('text\tintent\nпривет\tfoo\nпока\t \n', /^bad\.tsv:3: the intent is empty/);
  });

  it('rejects a file with no rows', () => {
    rejects('text\tintent\n', /no rows/);
  });
});

/** A synthetic task with its own labels: each label has two keywords, phrases mix in shared noise words. */
function syntheticSet(labels: number, perLabel: number, seed: number): LabeledText[] {
  const rng = createRng(seed);
  const roots = [
    'дом',
    'сад',
    'лес',
    'мост',
    'кот',
    'сыр',
    'чай',
    'снег',
    'град',
    'зонт',
    'шкаф',
    'стол',
    'нож',
    'ключ',
    'замок',
    'порт',
    'рыба',
    'волк',
    'гора',
    'река',
    'поле',
    'луна',
    'звезда',
    'ветер',
  ];
  const noise = ['как', 'где', 'мне', 'нужно', 'узнать', 'про', 'скажите', 'хочу', 'можно', 'это', 'вопрос'];
  const out: LabeledText[] = [];
  for (let l = 0; l < labels; l++) {
    const a = roots[l % roots.length]!;
    const b = `${roots[(l * 7 + 3) % roots.length]}${l}`;
    for (let i = 0; i < perLabel; i++) {
      const words = [
        noise[Math.floor(rng() * noise.length)]!,
        rng() < 0.8 ? a : '',
        b,
        noise[Math.floor(rng() * noise.length)]!,
      ];
      out.push({ text: words.filter(Boolean).join(' '), label: `label_${l}` });
    }
  }
  return out;
}

describe('eval on an arbitrary labeled set', () => {
  const train = syntheticSet(24, 20, 1);
  const test = syntheticSet(24, 5, 2);

  it('trains on its own labels and prints the contract line last', () => {
    const text = formatReport(trainAndEvaluate(train, test));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^label +support +precision +recall +f1$/);
    assert.ok(lines.some((l) => l.startsWith('label_23 ')));
    assert.match(lines.at(-1)!, /^accuracy=\d\.\d{4} macro_f1=\d\.\d{4} n=120$/);
    const accuracy = Number(/accuracy=([\d.]+)/.exec(lines.at(-1)!)![1]);
    assert.ok(accuracy > 0.9, `accuracy ${accuracy}`);
  });

  it('is deterministic', () => {
    assert.equal(formatReport(trainAndEvaluate(train, test)), formatReport(trainAndEvaluate(train, test)));
    assert.equal(
      formatReport(crossValidate(train, 3, { calibrationFolds: 0 })),
      formatReport(crossValidate(train, 3, { calibrationFolds: 0 })),
    );
  });
});
