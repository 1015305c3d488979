import { migrationSet } from '../store/migrate.js';

/** The tables of kb (the knowledge base): its migrations. */
export const kbSchema = migrationSet('kb', import.meta.url);
