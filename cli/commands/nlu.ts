import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { OtklikError } from '../../core/errors.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { ensureSeeded } from '../../kb/seed.js';
import type { KnowledgeBase } from '../../kb/types.js';
import { OUT_OF_SCOPE } from '../../nlu/classifier.js';
import { crossValidate, formatReport, trainAndEvaluate } from '../../nlu/evaluate.js';
import { prepareFeatures } from '../../nlu/features.js';
import { saveModel } from '../../nlu/model-io.js';
import { createNluService, trainingExamplesFromKb } from '../../nlu/service.js';
import { trainClassifier } from '../../nlu/train.js';
import { readLabeledTsv } from '../../nlu/tsv.js';
import { type CliContext, createCliContext } from '../context.js';

/** `otklik nlu classify|eval|train` (../shared/contracts/cli.md). */

async function openKb(ctx: CliContext): Promise<KnowledgeBase> {
  const sql = await ctx.store();
  await ensureSeeded(sql);
  return createKnowledgeBase(sql);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2)
    throw new OtklikError('VALIDATION_FAILED', `--cv needs a whole number ≥ 2, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  const nlu = program.command('nlu').description('понимание речи: классификация намерений, обучение, оценка');

  nlu
    .command('classify')
    .description('классифицировать фразы из stdin (по одной в строке), JSON по строке на каждую')
    .option('--expect <intents>', 'ожидаемые намерения через запятую (например dialog.yes,dialog.no)')
    .option('--now <iso>', 'текущий момент для относительных дат (ISO 8601)')
    .action(async (opts: { expect?: string; now?: string }) => {
      const ctx = createCliContext();
      const now = opts.now ? new Date(opts.now) : undefined;
      if (now && Number.isNaN(now.getTime())) {
        throw new OtklikError('VALIDATION_FAILED', `--now: not an ISO 8601 instant: "${opts.now}"`);
      }
      const expected = opts.expect
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        const kb = await openKb(ctx);
        const service = await createNluService({ kb, modelDir: ctx.config.nlu.modelDir, log: ctx.log });
        try {
          // The contract: the model of the *current* KB, so a stale saved model is retrained first.
          await service.retrainIfStale();
          const classifier = service.classifier();
          const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
          for await (const line of lines) {
            const c = classifier.classify(line, {
              ...(expected ? { expected } : {}),
              ...(now ? { now } : {}),
            });
            process.stdout.write(
              `${JSON.stringify({
                text: c.text,
                intent: c.intent,
                confidence: c.confidence,
                alternatives: c.alternatives,
                entities: c.entities,
                needs_confirmation: c.needsConfirmation,
                emergency: c.emergency,
                emergency_suspected: c.emergencySuspected,
              })}\n`,
            );
          }
        } finally {
          await service.close();
        }
      } finally {
        await ctx.close();
      }
    });

  nlu
    .command('eval')
    .description(
      'оценить классификатор: --train/--test на TSV, --test на модели из базы знаний, или --cv K по базе знаний',
    )
    .option('--train <file>', 'обучающий TSV (text<TAB>intent); без него обучение на базе знаний')
    .option('--test <file>', 'проверочный TSV (text<TAB>intent)')
    .option('--cv <k>', 'k-кратная перекрёстная проверка по фразам базы знаний', positiveInt)
    .option('--lemmas', 'добавить признаки-леммы (словари az); по умолчанию выключено')
    .action(async (opts: { train?: string; test?: string; cv?: number; lemmas?: boolean }) => {
      if (!opts.test && !opts.cv)
        throw new OtklikError(
          'VALIDATION_FAILED',
          'nlu eval needs --test FILE (with or without --train) or --cv K',
        );
      if (opts.cv && (opts.train || opts.test))
        throw new OtklikError(
          'VALIDATION_FAILED',
          '--cv runs over the knowledge base; do not combine it with --train/--test',
        );
      const features = opts.lemmas ? { lemmaWeight: 1 } : {};
      await prepareFeatures(features);
      if (opts.train && opts.test) {
        // Read both before training, so a bad test file fails fast.
        const [train, test] = await Promise.all([readLabeledTsv(opts.train), readLabeledTsv(opts.test)]);
        process.stdout.write(`${formatReport(trainAndEvaluate(train, test, { features }))}\n`);
        return;
      }
      const ctx = createCliContext();
      try {
        const examples = await trainingExamplesFromKb(await openKb(ctx));
        if (opts.cv) {
          process.stdout.write(
            `${formatReport(crossValidate(examples, opts.cv, { rejectLabel: OUT_OF_SCOPE, features }))}\n`,
          );
        } else {
          const test = await readLabeledTsv(opts.test!);
          process.stdout.write(
            `${formatReport(trainAndEvaluate(examples, test, { rejectLabel: OUT_OF_SCOPE, features }))}\n`,
          );
        }
      } finally {
        await ctx.close();
      }
    });

  nlu
    .command('train')
    .description('обучить модель по текущей базе знаний и сохранить её (models/nlu)')
    .action(async () => {
      const ctx = createCliContext();
      try {
        const kb = await openKb(ctx);
        const examples = await trainingExamplesFromKb(kb);
        const started = Date.now();
        const model = trainClassifier(examples, { rejectLabel: OUT_OF_SCOPE, kbVersion: await kb.version() });
        const path = await saveModel(ctx.config.nlu.modelDir, model);
        const t = model.thresholds;
        process.stdout.write(
          `Модель ${model.modelVersion} обучена по базе знаний ${model.kbVersion}: ${examples.length} фраз, ` +
            `${model.labels.length} намерений, ${Date.now() - started} мс.\n` +
            `Пороги: отказ < ${t.reject}, уточнение < ${t.confirm} или отрыв < ${t.margin}. Сохранено: ${path}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
