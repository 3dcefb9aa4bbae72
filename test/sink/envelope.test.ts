import { describe, expect, it } from '@jest/globals';
import { bodyLine, compactJson, envelopeLine } from '../../sink/envelope.js';
import type { RecordMeta } from '../../sink/store/types.js';

const meta: RecordMeta = { messageId: 'm-1', event: 'job.status', status: 'FAILED', liveMode: true };

describe('compactJson and dump lines', () => {
  it('drops whitespace outside strings only and leaves numbers as written', () => {
    const body = Buffer.from('{\n  "a" : 1.0 ,\r\n\t"b": " x \\" \\\\ y ",\n  "c": [ 1e3 , -0 ]\n}\n');
    expect(compactJson(body).toString()).toBe('{"a":1.0,"b":" x \\" \\\\ y ","c":[1e3,-0]}');
    expect(JSON.parse(compactJson(body).toString())).toEqual(JSON.parse(body.toString()));
  });

  it('keeps a one-line body byte-identical and compacts one with line breaks', () => {
    const compact = Buffer.from('{"b": 2,  "a":1}');
    expect(bodyLine(compact)).toBe(compact);
    expect(bodyLine(Buffer.from('{"b": 2,\n"a":1}')).toString()).toBe('{"b":2,"a":1}');
  });

  it('writes the envelope line with the metadata first and the body as received', () => {
    const receivedAt = '2026-11-30T07:01:43.512Z';
    const line = envelopeLine({ key: 4, receivedAt, ...meta, body: Buffer.from('{"z": 1}') });
    expect(line.toString()).toBe(
      '{"key":4,"receivedAt":"2026-11-30T07:01:43.512Z","messageId":"m-1","event":"job.status","status":"FAILED",' +
        '"liveMode":true,"verified":null,"signed":null,"body":{"z": 1}}',
    );
    const verified = envelopeLine({
      key: 5,
      receivedAt,
      ...meta,
      verified: true,
      signed: ['content-type', 'content-digest'],
      body: Buffer.from('{}'),
    });
    expect(verified.toString()).toContain(
      '"liveMode":true,"verified":true,"signed":["content-type","content-digest"],"body":{}}',
    );
  });
});
