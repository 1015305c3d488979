import { adminSchema } from '../admin/schema.js';
import { callsSchema } from '../calls/schema.js';
import { inquiriesSchema } from '../inquiries/schema.js';
import { kbSchema } from '../kb/schema.js';
import { nluSchema } from '../nlu/schema.js';
import type { MigrationSet } from '../store/migrate.js';
import { telephonySchema } from '../telephony/schema.js';

/** Every part that owns tables, with its migrations: the store applies them in number order. */
export const allSchemas: readonly MigrationSet[] = [
  kbSchema,
  nluSchema,
  callsSchema,
  telephonySchema,
  adminSchema,
  inquiriesSchema,
];
