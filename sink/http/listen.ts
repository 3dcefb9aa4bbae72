import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `http://host:port`, with an IPv6 address in brackets. */
export function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** Listens on `host:port` (port 0: any free one); resolves with the port actually bound, rejects as listen does. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
