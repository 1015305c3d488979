import { migrationSet } from '../store/migrate.js';

/** The tables of telephony (the SIP side: recordings, operators, the queue, callbacks): its migrations. */
export const telephonySchema = migrationSet('telephony', import.meta.url);
