import { migrationSet } from '../store/migrate.js';

/** The tables of admin (staff accounts, sessions and the audit log): its migrations. */
export const adminSchema = migrationSet('admin', import.meta.url);
