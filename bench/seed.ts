import { openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_FILE } from '../sink/store/file-store.js';
import { encodeRecord } from '../sink/store/record.js';
import { webhookMeta } from '../sink/webhook-meta.js';
import { messageId, payload } from './payload.js';

/**
 * A file store of `count` benchmark webhooks, written directly with the sink's own record encoder: the same
 * bytes 100,000 POSTs would leave, in a fraction of the time. Returns the data file's size.
 */
export function seedFileStore(dataDir: string, count: number, run = 0xbeef): number {
  mkdirSync(dataDir, { recursive: true });
  const fd = openSync(join(dataDir, DATA_FILE), 'w', 0o600);
  const start = Date.UTC(2026, 10, 30, 7, 0, 0);
  let bytes = 0;
  let parts: Buffer[] = [];
  let pending = 0;
  try {
    for (let key = 1; key <= count; key++) {
      const body = Buffer.from(payload(messageId(run, key)));
      const line = encodeRecord(key, start + key * 10, webhookMeta(JSON.parse(body.toString('utf8'))), body).line;
      parts.push(line);
      pending += line.length;
      if (pending >= 1 << 20 || key === count) {
        writeSync(fd, Buffer.concat(parts, pending));
        bytes += pending;
        parts = [];
        pending = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
