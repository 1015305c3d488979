/**
 * What a call session needs, opened from a store: the knowledge base (seeded with the shipped sample when
 * the store is empty) and the NLU classifier trained from it. Used by the CLI, the chat server and tests.
 */
import type { Logger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import type { KnowledgeBase } from '../kb/types.js';
import { createNluService } from '../nlu/service.js';
import type { IntentClassifier } from '../nlu/types.js';
import type { Sql } from '../store/sql.js';

export interface DialogKnowledge {
  sql: Sql;
  kb: KnowledgeBase;
  nlu: () => IntentClassifier;
  log: Logger;
  close(): Promise<void>;
}

export interface DialogKnowledgeOptions {
  /** Where the trained NLU model is kept (config.nlu.modelDir). */
  modelDir: string;
  /** Load the shipped sample KB into an empty store (default true). */
  seed?: boolean;
}

export async function openDialogKnowledge(
  sql: Sql,
  log: Logger,
  opts: DialogKnowledgeOptions,
): Promise<DialogKnowledge> {
  if (opts.seed !== false) await ensureSeeded(sql);
  const kb = createKnowledgeBase(sql);
  const service = await createNluService({ kb, modelDir: opts.modelDir, log });
  return {
    sql,
    kb,
    nlu: () => service.classifier(),
    log,
    close: () => service.close(),
  };
}
