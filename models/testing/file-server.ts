import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP file server on 127.0.0.1 for download tests: honours Range requests and can cut the
 * connection part-way through a response, the way a flaky network does.
 */

export interface TestFileServer {
  url(path: string): string;
  /** Range headers received, per path, in order (undefined = a plain request). */
  ranges: Map<string, (string | undefined)[]>;
  /** The next full response for this path stops after this many bytes and drops the connection. */
  cutNextAfter(path: string, bytes: number): void;
  close(): Promise<void>;
}

export async function startFileServer(files: Record<string, Buffer>): Promise<TestFileServer> {
  const ranges = new Map<string, (string | undefined)[]>();
  const cuts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const body = files[path];
    ranges.set(path, [...(ranges.get(path) ?? []), req.headers.range]);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      res.writeHead(200, { 'content-length': body.length });
    }
    const cut = cuts.get(path);
    if (cut !== undefined) {
      cuts.delete(path);
      // Half-close after the bytes: they all arrive, then the connection ends short of content-length.
      res.write(body.subarray(start, start + cut), () => res.socket?.end());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    ranges,
    cutNextAfter: (path, bytes) => cuts.set(path, bytes),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
