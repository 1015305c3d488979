import { migrationSet } from '../store/migrate.js';

/** The tables of nlu: the model registry `nlu_models` (0325). */
export const nluSchema = migrationSet('nlu', import.meta.url);
