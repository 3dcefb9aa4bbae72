import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The benchmark's yardstick: a bare node:http server that reads the whole request body and answers a fixed
 * JSON reply of the sink's shape. Bundled and run the same way as the sink (see bundle.ts), so that the two
 * differ only in what the sink does per request. Prints `listening on <url>` like the sink.
 */
const REPLY = Buffer.from('{"msg": "value with key 1 stored"}\n');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    Buffer.concat(chunks);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': REPLY.length });
    res.end(REPLY);
  });
});
server.listen(Number(process.env.BASELINE_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
