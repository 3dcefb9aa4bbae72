import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import {
  createReplayScanner,
  encodedLength,
  encodeRecord,
  parseRecordLine,
  type ParsedRecord,
} from '../../sink/store/record.js';
import type { RecordMeta } from '../../sink/store/types.js';

const meta: RecordMeta = { messageId: 'm-1', event: 'job.status', status: 'FAILED', liveMode: true };
const t0 = Date.UTC(2026, 10, 30, 7, 1, 43, 512);

function scan(chunks: Buffer[]) {
  const records: { parsed: ParsedRecord; lineOffset: number }[] = [];
  const scanner = createReplayScanner((parsed, lineOffset) => records.push({ parsed, lineOffset }));
  for (const c of chunks) scanner.push(c);
  return { records, outcome: scanner.end() };
}

const lines = (n: number, start = 1) =>
  Buffer.concat(
    Array.from({ length: n }, (_, i) => {
      const key = start + i;
      return encodeRecord(key, t0 + i, { ...meta, messageId: `m-${key}` }, Buffer.from(`{"n":${key}}`)).line;
    }),
  );

describe('encodeRecord', () => {
  it('writes one JSON line with the metadata, a CRC of the body and the body embedded byte for byte', () => {
    const body = Buffer.from('{"a": 1.50, "s":"x\\"y"}');
    const enc = encodeRecord(7, t0, meta, body);
    const text = enc.line.toString('utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(parsed).toEqual({
      key: 7,
      receivedAt: '2026-11-30T07:01:43.512Z',
      messageId: 'm-1',
      event: 'job.status',
      status: 'FAILED',
      liveMode: true,
      crc: crc32(body),
      body: { a: 1.5, s: 'x"y' },
    });
    expect(enc.text).toBe(false);
    expect(enc.line.subarray(enc.bodyOffset, enc.bodyOffset + enc.bodyLength).equals(body)).toBe(true);
  });

  it('keeps a body with line breaks as a JSON string that restores the exact bytes', () => {
    const body = Buffer.from('{\r\n  "a": 1.0,\n  "b": "é"\n}\n');
    const enc = encodeRecord(1, t0, { messageId: null, event: null, status: null, liveMode: null }, body);
    const text = enc.line.toString('utf8');
    expect(text.indexOf('\n')).toBe(text.length - 1);
    const parsed = JSON.parse(text) as { bodyText: string; liveMode: null; messageId: null };
    expect(Buffer.from(parsed.bodyText).equals(body)).toBe(true);
    expect(parsed.liveMode).toBeNull();
    expect(parsed.messageId).toBeNull();
    expect(enc.text).toBe(true);
  });
});

describe('encodedLength', () => {
  it('is the length of the line encodeRecord builds (the memory store counts capacity with it)', () => {
    fc.assert(
      fc.property(
        fc.json(),
        fc.boolean(),
        fc.option(fc.string(), { nil: null }),
        fc.integer({ min: 1, max: 1e9 }),
        (json, pretty, id, key) => {
          const body = Buffer.from(pretty ? JSON.stringify(JSON.parse(json), null, 2) : json);
          const m = { ...meta, messageId: id };
          expect(encodedLength(key, t0, m, body)).toBe(encodeRecord(key, t0, m, body).line.length);
        },
      ),
    );
  });
});

describe('parseRecordLine', () => {
  it('reads back what encodeRecord wrote, without parsing the body', () => {
    for (const body of ['{"x":[1,2,{"body":"b"}]}', '"just a string"', '{\n"multi": "line"\n}']) {
      const enc = encodeRecord(3, t0, { ...meta, messageId: 'id,"body":trick' }, Buffer.from(body));
      const p = parseRecordLine(enc.line, 0, enc.line.length - 1)!;
      expect(p).not.toBeNull();
      const expected = { messageId: 'id,"body":trick', event: 'job.status', status: 'FAILED', liveMode: true };
      expect(p).toMatchObject({ key: 3, receivedAtMs: t0, ...expected });
      expect(p.bodyOffset).toBe(enc.bodyOffset);
      expect(p.bodyLength).toBe(enc.bodyLength);
    }
  });

  it('keeps whether the signature was verified and what it covered; an older record reads as not checked', () => {
    const signed = ['content-type', 'content-digest'];
    const enc = encodeRecord(4, t0, { ...meta, verified: true, signed }, Buffer.from('{"a":1}'));
    expect(enc.line.toString()).toContain(
      ',"liveMode":true,"verified":true,"signed":["content-type","content-digest"],',
    );
    expect(parseRecordLine(enc.line, 0, enc.line.length - 1)).toMatchObject({ key: 4, verified: true, signed });
    // A line as the sink wrote it before these fields existed (its CRC is of {"a":1}).
    const old = Buffer.from(
      `{"key":5,"receivedAt":"2026-11-30T07:01:43.512Z","messageId":"m-5","event":null,"status":null,` +
        `"liveMode":null,"crc":${crc32(Buffer.from('{"a":1}'))},"body":{"a":1}}\n`,
    );
    expect(parseRecordLine(old, 0, old.length - 1)).toMatchObject({ key: 5, verified: null, signed: null });
    expect(encodeRecord(6, t0, meta, Buffer.from('{}')).line.toString()).not.toContain('verified');
  });

  it('rejects a record whose body does not match its CRC, or that is cut anywhere', () => {
    const enc = encodeRecord(1, t0, meta, Buffer.from('{"amount":100}'));
    const tampered = Buffer.from(enc.line.toString().replace('100', '900'));
    expect(parseRecordLine(tampered, 0, tampered.length - 1)).toBeNull();
    for (let cut = 0; cut < enc.line.length - 1; cut++) {
      const torn = Buffer.concat([enc.line.subarray(0, cut), Buffer.from('\n')]);
      expect(parseRecordLine(torn, 0, torn.length - 1)).toBeNull();
    }
    const zeroed = Buffer.from(enc.line);
    zeroed.fill(0, 40, 60);
    expect(parseRecordLine(zeroed, 0, zeroed.length - 1)).toBeNull();
  });
});

describe('createReplayScanner', () => {
  it('finds every record with its absolute body offset, whatever the chunking', () => {
    const file = lines(5);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: file.length }), { maxLength: 6 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, file.length]) {
          if (p > prev) chunks.push(file.subarray(prev, p));
          prev = p;
        }
        const { records, outcome } = scan(chunks);
        expect(outcome).toEqual({ goodBytes: file.length, totalBytes: file.length, records: 5, strandedRecords: 0 });
        expect(records.map((r) => r.parsed.key)).toEqual([1, 2, 3, 4, 5]);
        for (const { parsed } of records) {
          const stored = file.toString('utf8', parsed.bodyOffset, parsed.bodyOffset + parsed.bodyLength);
          expect(stored).toBe(`{"n":${parsed.key}}`);
        }
      }),
    );
  });

  it('stops at a torn last record, with or without its line feed', () => {
    const good = lines(3);
    const next = encodeRecord(4, t0, meta, Buffer.from('{"n":4}')).line;
    const cut = next.subarray(0, 30);
    for (const torn of [cut, Buffer.concat([cut, Buffer.from('\n')]), Buffer.alloc(50)]) {
      const { records, outcome } = scan([good, torn]);
      expect(records).toHaveLength(3);
      expect(outcome.goodBytes).toBe(good.length);
      expect(outcome.totalBytes).toBe(good.length + torn.length);
      expect(outcome.strandedRecords).toBe(0);
    }
  });

  it('stops at a break in the key sequence and counts the intact records stranded after damage', () => {
    const first = lines(2);
    const { outcome } = scan([first, lines(1, 4)]);
    expect(outcome.goodBytes).toBe(first.length);
    expect(outcome.strandedRecords).toBe(1);
    const damaged = scan([first, Buffer.from('garbage\n'), lines(2, 3)]);
    expect(damaged.outcome.records).toBe(2);
    expect(damaged.outcome.goodBytes).toBe(first.length);
    expect(damaged.outcome.strandedRecords).toBe(2);
  });

  it('requires the first record to carry key 1', () => {
    const { outcome } = scan([lines(2, 2)]);
    expect(outcome.records).toBe(0);
    expect(outcome.goodBytes).toBe(0);
  });
});
