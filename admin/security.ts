import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * Security headers of the API and the web UI (@fastify/helmet). The Content-Security-Policy allows only the
 * UI's own files: its inline scripts (chat.html) by their sha256, computed from the pages served, so an
 * injected script never runs while editing a page needs no change here. Staff reach the line over plain HTTP
 * on the local network, so no upgrade to HTTPS is forced; recordings and CSV exports are played or saved
 * from blob: URLs.
 */
export function securityHeaders(uiDir: string): FastifyHelmetOptions {
  const hashes = new Set<string>();
  for (const name of readdirSync(uiDir).filter((n) => n.endsWith('.html'))) {
    const html = readFileSync(join(uiDir, name), 'utf8');
    for (const m of html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
      hashes.add(`'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
    }
  }
  return {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        scriptSrc: ["'self'", ...hashes],
        styleSrc: ["'self'", "'unsafe-inline'"],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // Other services may share the parent domain over plain HTTP: HSTS covers this host only.
    strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
  };
}
