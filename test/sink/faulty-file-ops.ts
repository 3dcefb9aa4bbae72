import path from 'node:path';
import { nodeFileOps, type StoreFileHandle, type StoreFileOps } from '../../sink/store/file-store.js';

/**
 * Wraps the real file operations (this platform's, or `base`); each fault fires once, on the next matching
 * call. `events` lists the writes and syncs in order.
 */
export function faultyOps(base: StoreFileOps = nodeFileOps) {
  const faults: { write: Error | 'partial' | 'landed' | null; datasync: Error | null; truncate: Error | null } = {
    write: null,
    datasync: null,
    truncate: null,
  };
  const calls = { write: 0, truncate: 0 };
  const events: string[] = [];
  const ops: StoreFileOps = {
    syncedWrites: base.syncedWrites,
    async writeNewFile(p, data) {
      await base.writeNewFile(p, data);
      events.push(`writeNewFile ${path.basename(p).replace(/-[^.]*$/, '')}`);
    },
    async syncDirectory(dir) {
      await base.syncDirectory(dir);
      events.push('syncDirectory');
    },
    async open(p) {
      const real = await base.open(p);
      const handle: StoreFileHandle = {
        read: (b, o, l, pos) => real.read(b, o, l, pos),
        async write(b, o, l, pos) {
          calls.write += 1;
          events.push('write');
          const fault = faults.write;
          faults.write = null;
          if (fault === 'partial') {
            // Half the bytes reach the file, then the disk fails: the worst case for a torn record.
            await real.write(b, o, Math.max(1, Math.floor(l / 2)), pos);
            throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          }
          if (fault === 'landed') {
            // Every byte reaches the file, but the device fails to make them durable (O_DSYNC reports it here).
            await real.write(b, o, l, pos);
            throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          }
          if (fault) throw fault;
          return real.write(b, o, l, pos);
        },
        async datasync() {
          events.push('datasync');
          const fault = faults.datasync;
          faults.datasync = null;
          if (fault) throw fault;
          return real.datasync();
        },
        async truncate(len) {
          calls.truncate += 1;
          events.push('truncate');
          const fault = faults.truncate;
          faults.truncate = null;
          if (fault) throw fault;
          return real.truncate(len);
        },
        stat: () => real.stat(),
        close: () => real.close(),
      };
      return handle;
    },
  };
  return { ops, faults, calls, events };
}
