import { migrationSet } from '../store/migrate.js';

/**
 * Inquiries, schema: `inquiries` (every stage of the lifecycle, one row per agency of a request) and
 * `inquiry_extensions`; migrations 400-499: 0400 the table, 0401 requests to several agencies, the terms kept
 * per row and the extensions, 0402 the extension's notice callback.
 */
export const inquiriesSchema = migrationSet('inquiries', import.meta.url);
