/**
 * The API description: every route of the whole app (every area `otklik serve` runs) has a schema with a
 * summary and tags, and its path and body parameters described; `/docs/json` is OpenAPI 3 by the official
 * schema (@seriousme/openapi-schema-validator), holds every route, and only signed-in staff get it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteOptions } from 'fastify';
import { createMetrics } from '../core/metrics.js';
import { type FullApp, openFullApp } from './support/full-app.js';

interface SeenRoute {
  method: string;
  url: string;
  schema: Record<string, unknown> | undefined;
  /** A WebSocket route: described by its schema, but OpenAPI has no operation for it. */
  websocket: boolean;
}

/**
 * Routes without a description on purpose: the staff UI's static files (`/*`, and uPlot's under `/vendor/uplot/*`) and Swagger UI's own page and
 * files. Both mark themselves `hide`; nothing else may.
 */
const hiddenOnPurpose = (r: SeenRoute) =>
  r.url === '/*' || r.url === '/vendor/uplot/*' || (r.url.startsWith('/docs') && r.schema?.hide === true);

/** Acts that take no body at all (an accept, a logout): their POST has no body to describe. */
const bodiless = new Set([
  'POST /api/auth/logout',
  'POST /api/kb/prompts/:id/delete',
  'POST /api/incidents/:id/end',
  'POST /api/desk/offers/:callId/accept',
  'POST /api/desk/offers/:callId/decline',
  'POST /api/desk/conversations/:callId/hangup',
  'POST /api/inquiries/:id/relayed',
  // A WAV file, not JSON: its format is in the route's description.
  'POST /api/kb/try/audio',
]);

describe('API description (OpenAPI at /docs/json)', () => {
  let full: FullApp;
  const routes: SeenRoute[] = [];
  let staff: string;

  before(async () => {
    full = await openFullApp({
      metrics: { metrics: createMetrics({ defaultMetrics: false }) },
      onRoute: (r: RouteOptions) => {
        for (const method of [r.method].flat())
          if (method !== 'HEAD')
            routes.push({
              method,
              url: r.url,
              schema: r.schema as Record<string, unknown> | undefined,
              websocket: r.websocket === true,
            });
      },
    });
    staff = await full.signIn('docs-reader', 'operator');
  });
  after(async () => {
    await full?.close();
  });

  it('every route is registered with a schema: summary, tags, its path parameters and its body', () => {
    const described = routes.filter((r) => !hiddenOnPurpose(r));
    assert.ok(described.length >= 60, `only ${described.length} routes`);
    const missing: string[] = [];
    for (const r of described) {
      const key = `${r.method} ${r.url}`;
      const s = r.schema ?? {};
      // @fastify/websocket hides its routes from the description itself.
      if (s.hide && !r.websocket) missing.push(`${key}: hidden`);
      if (typeof s.summary !== 'string' || !s.summary) missing.push(`${key}: no summary`);
      if (!Array.isArray(s.tags) || s.tags.length === 0) missing.push(`${key}: no tags`);
      if (r.url.includes(':') && !s.params) missing.push(`${key}: no params schema`);
      if (['POST', 'PUT', 'PATCH'].includes(r.method) && !s.body && !bodiless.has(key))
        missing.push(`${key}: no body schema`);
    }
    assert.deepEqual(missing, []);
  });

  it('only signed-in staff get the description; the UI page itself loads', async () => {
    const anonymous = await fetch(`${full.base}/docs/json`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { code: string }).code, 'UNAUTHORIZED');
    const forged = await fetch(`${full.base}/docs/json`, { headers: { authorization: 'Bearer nonsense' } });
    assert.equal(forged.status, 401);
    assert.equal((await fetch(`${full.base}/docs/yaml`)).status, 401);
    const page = await fetch(`${full.base}/docs`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger-ui/);
    const old = await fetch(`${full.base}/docs/static/index.html?x=1`, { redirect: 'manual' });
    assert.equal(
      old.headers.get('location'),
      '/docs/',
      'the old page address leads to the page, not to itself',
    );
    const init = await (await fetch(`${full.base}/docs/static/swagger-initializer.js`)).text();
    assert.match(init, /otklik\.token/, 'the page sends the staff token with its requests');
  });

  it('is valid OpenAPI 3 and holds every route with its method', async () => {
    const res = await fetch(`${full.base}/docs/json`, { headers: { authorization: `Bearer ${staff}` } });
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.match(doc.openapi, /^3\./);
    const result = await new Validator().validate(doc as never);
    assert.ok(result.valid, `not valid OpenAPI: ${JSON.stringify(result.errors, null, 1)?.slice(0, 3000)}`);
    const absent = routes
      .filter((r) => !hiddenOnPurpose(r) && !r.websocket)
      .filter((r) => {
        const path = r.url.replace(/:(\w+)/g, '{$1}');
        return !doc.paths[path]?.[r.method.toLowerCase()];
      })
      .map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(absent, [], 'routes missing from the description');
  });
});
