#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx's loader, so a checkout works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
