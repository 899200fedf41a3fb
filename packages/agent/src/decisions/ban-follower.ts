import type { BanChange, BanDecision, BanGuard, BanListWatch, Logger } from '@fleetban/shared';
import { scopeIncludes } from '@fleetban/shared';
import type { BanEntry } from '../enforce/enforcer.js';

/** What the follower watches: the fleet's `BanList` (or, in tests, any source of the same changes). */
export interface BanSource {
  watch(w: BanListWatch): Promise<{ stop(): void }>;
}

/** Where the follower hands the fleet's bans: the host's firewall writer. */
export interface FleetBanSink {
  /** `ban`: the decision itself (its id and evidence, for the host actions). */
  fleetPut(entry: BanEntry, initial: boolean, ban?: BanDecision): void;
  /** `lift` false: a ban this host does not take (its local ban of the target, if any, stays). */
  fleetDelete(target: string, initial: boolean, lift?: boolean): void;
  /** The current list has been handed over; resolves once the firewall holds it. */
  fleetListRead(): Promise<void>;
}

/** Who this host is, for the bans of the list it takes. */
export interface FollowerIdentity {
  /** This host's name: a ban scoped to other hosts is not enforced here. */
  readonly host: string;
  /** This host's guard: a ban covering its own or its NATS servers' addresses is refused. */
  readonly guard: BanGuard;
}

/**
 * Follows the fleet's ban list and hands each ban this host takes to the firewall writer
 * (decisions/firewall-writer.ts), which owns what the firewall holds. A ban of the list is taken
 * only when its scope includes this host and this host's guard allows it; a refused ban is
 * counted, logged once per change and becomes, here, the removal of whatever the host held for
 * the target (the link stays up).
 */
export class BanFollower {
  #watch: { stop(): void } | undefined;
  #stopped = false;
  malformed = 0;
  /** Bans of the list this host's guard refused. */
  refused = 0;

  constructor(
    private readonly sink: FleetBanSink,
    private readonly logger: Logger,
    private readonly identity?: FollowerIdentity,
  ) {}

  /** Starts following `list`; resolves once the current list is read and in the firewall. */
  async start(list: BanSource): Promise<void> {
    let ready!: () => void;
    const read = new Promise<void>((r) => (ready = r));
    const watch = await list.watch({
      onChange: (c, initial) => this.#change(c, initial),
      onInitialized: () => void this.sink.fleetListRead().then(ready),
      onMalformed: (key, err) => {
        this.malformed++;
        this.logger.warn({ key, err }, 'malformed ban entry ignored');
      },
      onResume: (fromRevision, lastRevision) => this.logger.warn({ fromRevision, lastRevision }, 'ban list watch stalled: resumed at the next revision'),
    });
    if (this.#stopped) {
      watch.stop();
      return;
    }
    this.#watch = watch;
    await read;
  }

  /** Stops following. */
  stop(): void {
    this.#stopped = true;
    this.#watch?.stop();
  }

  /** A put this host does not enforce becomes, here, the removal of whatever it held for the target. */
  #taken(c: BanChange): BanChange {
    if (c.kind !== 'put' || !this.identity) return c;
    const b = c.ban;
    if (!scopeIncludes(b.scope, this.identity.host)) {
      this.logger.debug({ ip: b.ip, jail: b.jail, scope: b.scope }, 'ban not for this host (scoped to others)');
      return { kind: 'delete', target: b.ip };
    }
    const refusal = this.identity.guard.check(b.ip);
    if (!refusal) return c;
    this.refused++;
    this.logger.warn({ ip: b.ip, jail: b.jail, reason: b.reason, why: refusal.code, refused: this.refused }, `ban refused by this host: ${refusal.reason}`);
    return { kind: 'delete', target: b.ip };
  }

  #change(raw: BanChange, initial: boolean): void {
    const c = this.#taken(raw);
    if (c.kind === 'put') {
      this.sink.fleetPut({ target: c.ban.ip, expiresMs: c.ban.expiresMs, jail: c.ban.jail }, initial, c.ban);
      if (!initial) this.logger.info({ ip: c.ban.ip, jail: c.ban.jail, expiresMs: c.ban.expiresMs, reason: c.ban.reason }, 'ban received');
    } else {
      this.sink.fleetDelete(c.target, initial, raw.kind === 'delete');
      if (!initial && raw.kind === 'delete') this.logger.info({ ip: c.target }, 'unban received');
    }
  }
}
