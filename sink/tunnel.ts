import type { SinkConfig } from '../shared/config.js';
import {
  planTunnel,
  tunnelCloseFailedLine,
  tunnelFailedLine,
  tunnelOpenLines,
  tunnelSecrets,
  type TunnelOptions,
} from './tunnel-plan.js';

/**
 * The ngrok tunnel of `npm start`: a thin shell around the official SDK (@ngrok/ngrok). Decisions
 * and messages live in tunnel-plan.ts; this file only calls the SDK and prints. A tunnel problem
 * never stops the local sink.
 */

/** The part of the SDK's Listener the sink uses. */
export interface TunnelListener {
  url(): string | null;
  close(): Promise<void>;
}

/** `forward()` of @ngrok/ngrok, or a stand-in in tests. */
export type ConnectTunnel = (options: TunnelOptions) => Promise<TunnelListener>;

export interface Tunnel {
  /** The public https URL, to set as SINK_URL in Pipedream. */
  url: string;
  /** Closes the ngrok listener; resolves even if that fails (the failure is logged). Idempotent. */
  close(): Promise<void>;
}

/**
 * The SDK's forward(). Imported on first use, so a sink without NGROK_AUTHTOKEN never loads the
 * native module. The SDK rewrites the object it is given, so it gets a copy.
 */
export const ngrokForward: ConnectTunnel = async (options) => {
  const ngrok = await import('@ngrok/ngrok');
  return ngrok.forward({ ...options, basic_auth: [...options.basic_auth] });
};

/**
 * Opens the tunnel when the configuration asks for it and allows it, printing what happened
 * through `log` (one line per call). Never throws: without a tunnel it resolves to null and the
 * sink goes on locally. Call it once the server listens, with the URL it listens on.
 */
export async function openTunnel(
  config: SinkConfig,
  localUrl: string,
  log: (line: string) => void,
  connect: ConnectTunnel = ngrokForward,
): Promise<Tunnel | null> {
  const plan = planTunnel(config, localUrl);
  if (plan.kind !== 'open') {
    log(plan.message);
    return null;
  }
  const secrets = tunnelSecrets(plan.options);
  const closeQuietly = async (listener: TunnelListener) => {
    try {
      await listener.close();
    } catch (error) {
      log(tunnelCloseFailedLine(error, secrets));
    }
  };

  let listener: TunnelListener;
  let url: string | null;
  try {
    listener = await connect(plan.options);
  } catch (error) {
    log(tunnelFailedLine(error, secrets));
    return null;
  }
  try {
    url = listener.url();
  } catch (error) {
    log(tunnelFailedLine(error, secrets));
    await closeQuietly(listener);
    return null;
  }
  if (!url) {
    log(tunnelFailedLine('ngrok opened no public URL', secrets));
    await closeQuietly(listener);
    return null;
  }

  for (const line of tunnelOpenLines(url, plan.target)) log(line);
  let closing: Promise<void> | null = null;
  return {
    url,
    close: () => (closing ??= closeQuietly(listener)),
  };
}
