import { join } from 'node:path';
import { Allowlist, type HostRecords, type HostStatus, type Logger, tryParseAddress } from '@fleetban/shared';
import { readStateFile, writeStateFile } from '../state/state-file.js';

/**
 * The addresses of every fleet host, as the controller records them, so this host never bans
 * another fleet host either — also while the controller is away (the fallback's local bans).
 * Followed from the hosts bucket and kept in `<state_dir>/fleet-addresses.json`, so an agent that
 * starts without NATS still knows them. A host the controller forgets (its record deleted) is
 * dropped here too, saved file included.
 */
export class FleetAddresses {
  readonly #byHost = new Map<string, readonly string[]>();
  #list = new Allowlist([]);
  #watch: { stop(): void } | undefined;
  readonly #file: string;

  constructor(stateDir: string, private readonly logger: Logger) {
    this.#file = join(stateDir, 'fleet-addresses.json');
  }

  /** Reads the addresses saved by an earlier run (none when there is no file; a bad file is logged and ignored). */
  load(): void {
    const saved = readStateFile(this.#file, 'fleet addresses', this.logger);
    if (typeof saved !== 'object' || saved === null) return;
    for (const [host, list] of Object.entries(saved)) {
      if (Array.isArray(list)) this.#byHost.set(host, list.filter((a): a is string => typeof a === 'string' && tryParseAddress(a)?.text === a));
    }
    this.#rebuild();
  }

  /** Follows the hosts bucket until {@link stop}. */
  async follow(records: HostRecords): Promise<void> {
    this.#watch = await records.watch(
      (h) => this.#record(h),
      (key, err) => this.logger.warn({ key, err }, 'malformed host record ignored'),
      (host) => this.#forget(host),
    );
  }

  /** Every fleet host's addresses, as one list. */
  current(): Allowlist {
    return this.#list;
  }

  /** Stops following. */
  stop(): void {
    this.#watch?.stop();
  }

  #record(h: HostStatus): void {
    const before = this.#byHost.get(h.host)?.join(' ');
    if (before === h.addresses.join(' ')) return;
    this.#byHost.set(h.host, h.addresses);
    this.#rebuild();
    this.#save();
  }

  /** A host forgotten by the controller (`fleetban hosts --forget`): its addresses are no longer protected here. */
  #forget(host: string): void {
    if (!this.#byHost.delete(host)) return;
    this.#rebuild();
    this.#save();
    this.logger.info({ host }, 'fleet host forgotten: its addresses are no longer protected');
  }

  #save(): void {
    writeStateFile(this.#file, Object.fromEntries(this.#byHost), 'fleet addresses', this.logger);
  }

  #rebuild(): void {
    this.#list = new Allowlist([...this.#byHost.values()].flat());
  }
}
