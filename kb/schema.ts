import { migrationSet } from '../store/migrate.js';

/** The tables of kb (the knowledge base): its migrations, numbered 1-99. */
export const kbSchema = migrationSet('kb', import.meta.url, [1, 99]);
