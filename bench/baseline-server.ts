import { constants, fdatasync, openSync, write } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * The benchmark's yardsticks: the least a server must do to keep a webhook, with nothing else. Each reads the
 * whole body, checks it is JSON (`JSON.parse`, 400 if not), keeps it in an array and answers with its key in
 * the sink's words. BASELINE_STORE=file also appends each body as a line to BASELINE_DATA_DIR/baseline.jsonl
 * and answers only once the line is durable: opened O_DSYNC on Linux, fdatasync after each write elsewhere,
 * with group commit (the bodies that arrived during a write go in the next one). Any other request (GET
 * /ping) gets the sink's fixed reply. Bundled and run as the sink is (bundle.ts); prints `listening on <url>` like it.
 */

const LF = Buffer.from('\n');
const PONG = Buffer.from('PONG');

const kept: Buffer[] = [];

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const stored = (res: ServerResponse, key: number) => answer(res, 200, `{"msg": "value with key ${key} stored"}\n`);

function keepInMemory(body: Buffer, res: ServerResponse): void {
  kept.push(body);
  stored(res, kept.length);
}

/** Appends durably with group commit: one write at a time; what arrives meanwhile waits for the next. */
function fileKeeper(dir: string): (body: Buffer, res: ServerResponse) => void {
  const dsync = process.platform === 'linux' ? (constants.O_DSYNC ?? 0) : 0;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | dsync;
  const fd = openSync(join(dir, 'baseline.jsonl'), flags, 0o600);
  let waiting: { body: Buffer; res: ServerResponse }[] = [];
  let writing = false;

  const writeBatch = () => {
    const batch = waiting;
    waiting = [];
    writing = true;
    const data = Buffer.concat(batch.flatMap((b) => [b.body, LF]));
    const done = (err: Error | null) => {
      writing = false;
      for (const b of batch) {
        if (err) answer(b.res, 500, '{"msg": "not stored"}\n');
        else {
          kept.push(b.body);
          stored(b.res, kept.length);
        }
      }
      if (waiting.length > 0) writeBatch();
    };
    write(fd, data, 0, data.length, null, (err, written) => {
      if (err || written !== data.length) return done(err ?? new Error('short write'));
      if (dsync) return done(null);
      fdatasync(fd, done);
    });
  };

  return (body, res) => {
    waiting.push({ body, res });
    if (!writing) writeBatch();
  };
}

const keep = process.env.BASELINE_STORE === 'file' ? fileKeeper(process.env.BASELINE_DATA_DIR ?? '.') : keepInMemory;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': PONG.length });
      res.end(PONG);
      return;
    }
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      answer(res, 400, '{"msg": "the body is not JSON"}\n');
      return;
    }
    keep(body, res);
  });
});
server.listen(Number(process.env.BASELINE_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
