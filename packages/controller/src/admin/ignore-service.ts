import {
  ADMIN_LIMITS,
  type BanDecision,
  type Clock,
  type CreateOptions,
  FleetbanError,
  type IgnoreEntry,
  IgnoreList,
  type Logger,
  type NatsConnection,
  type Network,
  networkContains,
  networksOverlap,
  parseNetwork,
  targetOfBanKey,
} from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import type { Allowlists } from '../decide/fleet-guard.js';
import type { BanStore } from '../store/ban-store.js';

/** What the ignore list's owner reads and changes. */
export interface IgnoreServiceDeps {
  readonly allowlists: Allowlists;
  readonly store: BanStore;
  readonly trackers: JailTrackers;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** What `ignore add` did. */
export interface IgnoreAdded {
  readonly added: IgnoreEntry[];
  /** Active bans that share addresses with an added network and stay in force (at most {@link ADMIN_LIMITS}.statusBanned listed). */
  readonly kept: BanDecision[];
  /** How many such bans there are. */
  readonly keptCount: number;
  /** Bans lifted (only with `unban`: those lying wholly inside an added network). */
  readonly lifted: string[];
}

/**
 * The fleet's ignore list (`fleetban ignore add|del|list`): its one writer and follower on the
 * controller. Entries live in a KV bucket and are mirrored into the guard's {@link Allowlists};
 * the controller follows the bucket, so a change written by any controller applies at once and is
 * there after a restart. An entry is a protected space: bans that would cover it are refused and
 * failures from it are counted as refused (`events.refused.ignoreip`); it never makes a ban, so
 * even 0.0.0.0/0 or ::/0 only stops banning.
 *
 * Adding a network does not lift the bans it covers, as fail2ban's `addignoreip` does not: they
 * run out (or are lifted with `fleetban unban`) and are listed in the reply. Asked to (`unban`),
 * it lifts only bans lying wholly inside an added network, never a wider ban that merely overlaps
 * it (that would unban addresses nobody asked to ignore).
 */
export class IgnoreService {
  #watch: { stop(): void } | undefined;
  private constructor(private readonly list: IgnoreList, private readonly d: IgnoreServiceDeps) {}

  /** Opens (creating, with `create`'s replicas) the bucket, follows it, and loads what it holds. */
  static async open(nc: NatsConnection, d: IgnoreServiceDeps, create?: CreateOptions): Promise<IgnoreService> {
    const s = new IgnoreService(await IgnoreList.open(nc, true, create), d);
    await s.#follow();
    return s;
  }

  async #follow(): Promise<void> {
    const a = this.d.allowlists;
    const told = new Set<string>();
    const malformed = (key: string, err: unknown) => this.d.logger.warn({ key, err }, 'ignore list entry does not decode: skipped');
    // the watch first: a change made while the current entries are read is told, and wins
    this.#watch = await this.list.watch({
      onPut: (e) => {
        told.add(IgnoreList.keyOf(e.network));
        a.putIgnored(e);
      },
      onDelete: (key) => {
        told.add(key);
        a.deleteIgnored(targetOfBanKey(key));
      },
      onMalformed: malformed,
    });
    for (const e of await this.list.all(malformed)) if (!told.has(IgnoreList.keyOf(e.network))) a.putIgnored(e);
    this.d.logger.info({ ignored: a.ignored().map((e) => e.network) }, 'fleet ignore list loaded: never banned');
  }

  /** The list, in the order entries were added. */
  entries(): IgnoreEntry[] {
    return this.d.allowlists.ignored();
  }

  /** `ignore add`: stores the networks, then reports (or, with `unban`, lifts) the active bans they cover. */
  async add(networks: readonly string[], by: string, unban: boolean): Promise<IgnoreAdded> {
    const nets = parseAll(networks);
    const now = this.d.clock();
    const added: IgnoreEntry[] = [];
    for (const n of nets) {
      const e = { network: n.text, by, atMs: now };
      await this.list.put(e);
      this.d.allowlists.putIgnored(e);
      added.push(e);
    }
    const kept: BanDecision[] = [];
    let keptCount = 0;
    const inside: string[] = [];
    for (const b of this.d.store.activeBans(now)) {
      const target = parseNetwork(b.ip);
      if (!nets.some((n) => networksOverlap(n, target))) continue;
      if (unban && nets.some((n) => within(target, n))) inside.push(b.ip);
      else if (keptCount++ < ADMIN_LIMITS.statusBanned) kept.push(b);
    }
    for (const ip of inside) {
      await this.d.store.unban(ip, now);
      for (const t of this.d.trackers.all()) t.window.reset(ip);
    }
    this.d.logger.info({ by, networks: added.map((e) => e.network), covered: keptCount, unbanned: inside, atMs: now }, 'ignore list: added by admin');
    return { added, kept, keptCount, lifted: inside };
  }

  /** `ignore del`: removes the networks; throws, changing nothing, when one is not on the list. */
  async del(networks: readonly string[], by: string): Promise<IgnoreEntry[]> {
    const nets = parseAll(networks);
    const a = this.d.allowlists;
    const absent = nets.filter((n) => !a.isIgnored(n.text)).map((n) => n.text);
    if (absent.length > 0) throw new FleetbanError('IGNORE_ABSENT', `not on the ignore list: ${absent.join(', ')} (fleetban ignore list shows it)`);
    const removed = a.ignored().filter((e) => nets.some((n) => n.text === e.network));
    for (const e of removed) {
      await this.list.remove(e.network);
      a.deleteIgnored(e.network);
    }
    this.d.logger.info({ by, networks: removed.map((e) => e.network), atMs: this.d.clock() }, 'ignore list: removed by admin');
    return removed;
  }

  /** Stops following the bucket. */
  stop(): void {
    this.#watch?.stop();
  }
}

/** The networks in canonical form; throws naming the first that is not an address or CIDR range. */
function parseAll(networks: readonly string[]): Network[] {
  if (networks.length === 0) throw new FleetbanError('USAGE', 'name at least one address or CIDR range');
  const out = new Map<string, Network>();
  for (const w of networks) {
    let n: Network;
    try {
      n = parseNetwork(w);
    } catch (cause) {
      throw new FleetbanError('PARSE_INVALID', `not an address or CIDR range: ${JSON.stringify(w)}`, { cause });
    }
    out.set(n.text, n);
  }
  return [...out.values()];
}

/** Whether every address of `inner` lies inside `outer`. */
function within(inner: Network, outer: Network): boolean {
  return inner.family === outer.family && outer.bits <= inner.bits && networkContains(outer, { family: inner.family, value: inner.base, text: '' });
}
