import { fairnessSuite } from '../testing/acd-sim.js';

fairnessSuite('round-robin', 'pglite');
