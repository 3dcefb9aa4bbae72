import { request, type Dispatcher } from 'undici';
import { fail, ok, type Result } from '../../shared/result.js';
import { describeNetworkError } from '../cli/network-error.js';

export type HttpFailure = 'timeout' | 'network';

export interface HttpReply {
  status: number;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

const MAX_REPLY_BYTES = 8 * 1024 * 1024;

/**
 * One HTTP exchange with a deadline covering connect, headers and body. Any status is a reply; only a
 * network failure or the deadline is a failure, as one line naming the target (never the headers).
 */
export async function httpCall(req: HttpRequest): Promise<Result<HttpReply, HttpFailure>> {
  const target = describeTarget(req.url);
  try {
    const response = await request(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs),
      dispatcher: req.dispatcher,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += buf.length;
      if (size > MAX_REPLY_BYTES) {
        response.body.destroy();
        return fail('network', `the reply from ${target} is larger than ${MAX_REPLY_BYTES} bytes`);
      }
      chunks.push(buf);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return ok({ status: response.statusCode, json, text });
  } catch (error) {
    const { kind, message } = describeNetworkError(error, target);
    return fail(kind, message);
  }
}

/** scheme://host/path, without query or credentials, for messages. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the server';
  }
}
