import { parseSinkConfig, type SinkConfig } from '../shared/config.js';
import { startConfig, startError } from './env-shell.js';
import { startSink } from './start.js';
import { openTunnel, type Tunnel } from './tunnel.js';
import { wakeForwarder } from './wake-forwarder.js';

/**
 * `npm start`: the sink in the foreground. Reads .env and the environment once, opens the store, listens.
 * SIGINT/SIGTERM: stop accepting, finish and flush what is in flight, exit 0.
 * Exit codes: 2 configuration error, 1 could not start (port taken, data directory unusable).
 */
async function main(): Promise<void> {
  const [config] = startConfig<[SinkConfig]>('', parseSinkConfig);
  let sink;
  try {
    sink = await startSink(config);
  } catch (err) {
    process.stderr.write(`sink: cannot start: ${startError(err, 'SINK_PORT', config.port)}\n`);
    process.exit(1);
  }

  // The Worker's outbox may hold deliveries from while the sink was away: it hears the sink is back now, and
  // again once the tunnel (the URL the outbox delivers to) is open.
  const wake = () => {
    if (config.forwarderUrl)
      void wakeForwarder(config.forwarderUrl, config.auth, (line) => process.stderr.write(`${line}\n`));
  };
  wake();

  // The tunnel opens beside the running sink: requests are served meanwhile, and a tunnel that fails (or never
  // answers) leaves the local sink running. Shutdown closes it only once it is open, never waits for it.
  let tunnel: Tunnel | null = null;
  void openTunnel(config, sink.url, (line) => process.stdout.write(`${line}\n`)).then((opened) => {
    tunnel = opened;
    // Requests through the tunnel carry its host name: answered from now on (see sink/allowed-hosts.ts).
    if (opened) {
      sink.allowHost(new URL(opened.url).host);
      wake();
    }
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sink: ${signal}, finishing requests in flight\n`);
    Promise.all([sink.close(), tunnel?.close()]).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sink: could not stop cleanly: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
