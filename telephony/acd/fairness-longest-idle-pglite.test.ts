import { fairnessSuite } from '../testing/acd-sim.js';

fairnessSuite('longest-idle-agent', 'pglite');
