import { migrationSet } from '../store/migrate.js';

/** Inquiries, schema: the part's one table (`inquiries`, every stage of the lifecycle); migrations 400-499. */
export const inquiriesSchema = migrationSet('inquiries', import.meta.url);
