import { migrationSet } from '../store/migrate.js';

/**
 * The tables of kb (the knowledge base): its migrations (0001-0099, 0308 the outcomes, 0315 the terms of the
 * agreements for inquiries on kb_meta and agencies, 0326 the inbox's decisions).
 */
export const kbSchema = migrationSet('kb', import.meta.url);
