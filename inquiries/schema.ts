import { migrationSet } from '../store/migrate.js';

/** The tables of inquiries (inquiries to agencies): its migrations, numbered 400-499. */
export const inquiriesSchema = migrationSet('inquiries', import.meta.url, [400, 499]);
