import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A cap on open connections that a flood of idle ones cannot use to lock everyone out. Node's own
 * `server.maxConnections` refuses every new connection at the cap, the one that would ask for `/ping` or
 * deliver a webhook included; here a new connection past the cap closes the oldest one that has no request in
 * flight (idle keep-alive, or headers never finished), and is itself refused only when all are busy.
 */
export interface ConnectionCap {
  /** Open connections and, of those, the ones with a request in flight. */
  counts(): { open: number; busy: number };
}

export function capConnections(server: Server, max: number): ConnectionCap {
  // Insertion order is age: the first idle one found is the oldest.
  const open = new Map<Socket, number>();
  let busy = 0;

  server.on('connection', (socket: Socket) => {
    open.set(socket, 0);
    socket.once('close', () => {
      if ((open.get(socket) ?? 0) > 0) busy -= 1;
      open.delete(socket);
    });
    if (open.size <= max) return;
    for (const [candidate, inFlight] of open) {
      if (inFlight === 0 && candidate !== socket) {
        open.delete(candidate);
        candidate.destroy();
        return;
      }
    }
    open.delete(socket);
    socket.destroy();
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const inFlight = open.get(socket);
    if (inFlight === undefined) return;
    if (inFlight === 0) busy += 1;
    open.set(socket, inFlight + 1);
    res.once('close', () => {
      const now = open.get(socket);
      if (now === undefined) return;
      if (now === 1) busy -= 1;
      open.set(socket, now - 1);
    });
  });

  return { counts: () => ({ open: open.size, busy }) };
}
