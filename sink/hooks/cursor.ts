import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/**
 * The hook's cursor: the key of the last webhook its command finished with exit 0, kept in the data directory so
 * a restart (or a crash) takes up where it stopped. Written to a new file, synced, then renamed over the old
 * one and the directory synced, so a crash leaves either the old cursor or the new one, never a torn file.
 */
export const CURSOR_FILE = 'hooks.cursor';

export interface HookCursor {
  read(): Promise<number | null>;
  write(key: number): Promise<void>;
}

export function hookCursor(dataDir: string): HookCursor {
  const path = join(dataDir, CURSOR_FILE);
  return {
    async read() {
      let text: string;
      try {
        text = await fsp.readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      const parsed = JSON.parse(text) as { cursor?: unknown };
      if (typeof parsed.cursor !== 'number' || !Number.isSafeInteger(parsed.cursor) || parsed.cursor < 0) {
        throw new Error(
          `${path} holds no cursor; delete it to start the hook from SINK_HOOK_FROM_KEY or from new webhooks`,
        );
      }
      return parsed.cursor;
    },
    async write(key) {
      const next = `${path}.next`;
      const file = await fsp.open(next, 'w', 0o600);
      try {
        await file.writeFile(`${JSON.stringify({ cursor: key })}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await fsp.rename(next, path);
      const dir = await fsp.open(dataDir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    },
  };
}
