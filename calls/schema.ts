import { migrationSet } from '../store/migrate.js';

/** The tables of calls (call records, turns and surveys): its migrations. */
export const callsSchema = migrationSet('calls', import.meta.url);
