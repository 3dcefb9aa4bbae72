import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { fail, ok, type Result } from '../../shared/result.js';
import { describeNetworkError } from '../cli/network-error.js';
import type { Up42Config } from '../up42/config.js';
import { describeTarget, httpCall } from '../up42/http.js';
import type { TokenSource } from '../up42/token.js';

/**
 * The assets of a fulfilled UP42 order, found in UP42's storage and downloaded into a folder: what the example
 * hook does. Storage search (`GET /v2/assets?search=<order id>`, paged from 0) and a pre-signed download URL
 * per asset (`POST /v2/assets/{id}/download-url`), as UP42's API and its Python SDK use them.
 */
export interface AssetInfo {
  id: string;
  name: string;
}

export interface Up42Access {
  config: Up42Config;
  tokens: TokenSource;
  timeoutMs: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function authorized(access: Up42Access): Promise<Result<Record<string, string>, string>> {
  const token = await access.tokens.accessToken();
  if (!token.ok) return fail(token.reason, token.message);
  return ok({ authorization: `Bearer ${token.value}`, accept: 'application/json' });
}

/** Every asset whose storage entry the order id finds, all pages. */
export async function orderAssets(access: Up42Access, orderId: string): Promise<Result<AssetInfo[], string>> {
  const assets: AssetInfo[] = [];
  for (let page = 0; ; page++) {
    const headers = await authorized(access);
    if (!headers.ok) return headers;
    const url = `${access.config.apiUrl}/v2/assets?${new URLSearchParams({ search: orderId, page: String(page) })}`;
    const reply = await httpCall({ method: 'GET', url, headers: headers.value, timeoutMs: access.timeoutMs });
    if (!reply.ok) return reply;
    const { status, json } = reply.value;
    if (status !== 200 || !isObject(json) || !Array.isArray(json.content)) {
      return fail('api', `UP42's storage search answered ${status} for order ${orderId}`);
    }
    for (const item of json.content) {
      if (isObject(item) && typeof item.id === 'string' && /^[A-Za-z0-9_-]+$/.test(item.id)) {
        assets.push({ id: item.id, name: typeof item.name === 'string' ? item.name : item.id });
      }
    }
    const totalPages = typeof json.totalPages === 'number' ? json.totalPages : 1;
    if (page + 1 >= totalPages) return ok(assets);
  }
}

/**
 * Downloads one asset to `folder/<asset id>.zip`, through a file of its own renamed once complete, so an asset
 * file is never half there. An asset already downloaded is kept: a hook may run again for the same webhook.
 */
export async function downloadAsset(
  access: Up42Access,
  asset: AssetInfo,
  folder: string,
): Promise<Result<'downloaded' | 'kept', string>> {
  const target = join(folder, `${asset.id}.zip`);
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  )
    return ok('kept');
  const headers = await authorized(access);
  if (!headers.ok) return headers;
  const signUrl = `${access.config.apiUrl}/v2/assets/${asset.id}/download-url`;
  const signed = await httpCall({ method: 'POST', url: signUrl, headers: headers.value, timeoutMs: access.timeoutMs });
  if (!signed.ok) return signed;
  const url = isObject(signed.value.json) ? signed.value.json.url : undefined;
  if (signed.value.status !== 200 || typeof url !== 'string') {
    return fail('api', `UP42 gave no download URL for asset ${asset.id} (${signed.value.status})`);
  }
  await mkdir(folder, { recursive: true });
  const partial = `${target}.part`;
  try {
    // The pre-signed URL is the credential: only its host and path are ever named.
    const response = await request(url, { signal: AbortSignal.timeout(access.timeoutMs) });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return fail(
        'api',
        `the download of asset ${asset.id} from ${describeTarget(url)} answered ${response.statusCode}`,
      );
    }
    await pipeline(response.body, createWriteStream(partial));
    await rename(partial, target);
    return ok('downloaded');
  } catch (error) {
    await rm(partial, { force: true });
    return fail('network', describeNetworkError(error, describeTarget(url)).message);
  }
}
