import { createRequire } from 'node:module';

let natsModule: typeof import('@nats-io/transport-node') | undefined;

/**
 * The NATS client library, required at its first use rather than with the module that uses it:
 * shared's door is also loaded by tools that never touch NATS (`fleetban regex`), which should not
 * pay for loading it.
 */
export function loadNats(): typeof import('@nats-io/transport-node') {
  return (natsModule ??= createRequire(import.meta.url)('@nats-io/transport-node') as typeof import('@nats-io/transport-node'));
}
