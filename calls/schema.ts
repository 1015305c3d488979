import { migrationSet } from '../store/migrate.js';

/** The tables of calls (call records, turns and surveys): its migrations, numbered 100-199. */
export const callsSchema = migrationSet('calls', import.meta.url, [100, 199]);
