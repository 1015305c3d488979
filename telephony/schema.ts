import { migrationSet } from '../store/migrate.js';

/** The tables of telephony (the SIP side: recordings, operators, the queue, callbacks): its migrations, numbered 200-299. */
export const telephonySchema = migrationSet('telephony', import.meta.url, [200, 299]);
