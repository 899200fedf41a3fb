import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { tryParseAddress } from './address.js';

/**
 * This machine's own addresses from its interfaces (loopback and link-local left out: they are
 * special space, never banned anyway), canonical and sorted.
 */
export function interfaceAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.internal) continue;
      const a = tryParseAddress(i.address);
      if (a && !a.text.startsWith('fe80:')) out.add(a.text);
    }
  }
  return [...out].sort();
}

/**
 * The addresses of the hosts named in NATS server URLs (`nats://10.0.0.1:4222`,
 * `tls://nats.example:4222`): literal addresses as they are, names resolved once through the
 * system resolver. A name that does not resolve is left out (and reported through `onError`).
 */
export async function serverAddresses(urls: readonly string[], onError: (host: string, err: unknown) => void = () => {}): Promise<string[]> {
  const out = new Set<string>();
  for (const url of urls) {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      continue;
    }
    const literal = tryParseAddress(host);
    if (literal) {
      out.add(literal.text);
      continue;
    }
    try {
      for (const r of await lookup(host, { all: true })) {
        const a = tryParseAddress(r.address);
        if (a) out.add(a.text);
      }
    } catch (err) {
      onError(host, err);
    }
  }
  return [...out].sort();
}
