/** The several-nodes settings: their defaults keep what a single node did, and a bad value stops the boot. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './config.js';

describe('config: several nodes', () => {
  it('defaults to the queue prefix used before it could be set', () => {
    const { nodes } = loadConfig({});
    assert.deepEqual(nodes, { queuePrefix: 'otklik', chatLeaseMs: 10000, chatForwardTimeoutMs: 30000 });
  });

  it('reads QUEUE_PREFIX, CHAT_LEASE_MS and CHAT_FORWARD_TIMEOUT_MS', () => {
    const { nodes } = loadConfig({
      QUEUE_PREFIX: 'line-122-spb',
      CHAT_LEASE_MS: '3000',
      CHAT_FORWARD_TIMEOUT_MS: '5000',
    });
    assert.deepEqual(nodes, { queuePrefix: 'line-122-spb', chatLeaseMs: 3000, chatForwardTimeoutMs: 5000 });
  });

  it('names the variable of a bad value', () => {
    assert.throws(() => loadConfig({ QUEUE_PREFIX: 'two words' }), {
      code: 'CONFIG_INVALID',
      message: /nodes\.queuePrefix \(QUEUE_PREFIX\)/,
    });
    assert.throws(() => loadConfig({ CHAT_LEASE_MS: '10' }), {
      code: 'CONFIG_INVALID',
      message: /nodes\.chatLeaseMs \(CHAT_LEASE_MS\)/,
    });
  });
});
