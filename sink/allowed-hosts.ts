import { isIP } from 'node:net';
import { isLoopbackHost, type SinkConfig } from '../shared/config.js';

/**
 * The Host rule against DNS rebinding: a page on a name its owner points at 127.0.0.1 reaches the sink with
 * that name in Host, so only names the sink knows are answered: loopback, SINK_HOST when it is an address
 * other machines use, the tunnel's host (added once the tunnel opens) and SINK_ALLOWED_HOSTS.
 */
export interface AllowedHosts {
  /** Whether a request with this Host header, arriving on `localAddress`, is answered. */
  allows(hostHeader: string, localAddress: string | undefined): boolean;
  /** Allows one more host name (or `host:port`, whose port is ignored). */
  add(host: string): void;
}

/** The name of a Host header, lower case, without its port; IPv6 addresses keep their brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

const bracketed = (address: string) => (isIP(address) === 6 ? `[${address}]` : address);

export function createAllowedHosts(config: Pick<SinkConfig, 'host' | 'allowedHosts' | 'ngrok'>): AllowedHosts {
  const names = new Set(config.allowedHosts.map(hostName));
  if (config.ngrok?.domain !== undefined) names.add(hostName(config.ngrok.domain));
  const wildcard = WILDCARDS.has(config.host.toLowerCase());
  if (!wildcard) names.add(hostName(bracketed(config.host)));
  return {
    allows(hostHeader, localAddress) {
      const name = hostName(hostHeader);
      if (names.has(name) || isLoopbackHost(name)) return true;
      // Bound to every interface: the address a connection arrived on is the sink's own, never a rebound name.
      if (!wildcard || localAddress === undefined) return false;
      const local = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
      return name === bracketed(local).toLowerCase();
    },
    add(host) {
      names.add(hostName(host));
    },
  };
}
