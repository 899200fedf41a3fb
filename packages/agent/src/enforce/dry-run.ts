/**
 * The dry-run backend: touches no firewall. It logs each element it would add or delete and
 * keeps them in memory (expiring by the injected clock), so `list()`, `report()` and reconcile
 * behave as with a real backend. Chosen explicitly, or by `auto` when nft is not usable.
 */
import type { Clock, Logger } from '@fleetban/shared';
import type { BanEntry, Enforcer, EnforcerReport } from './enforcer.js';
import { diffElements, planOps, type ElementOp, type Intent } from './reconcile.js';
import { DEFAULT_TOLERANCE_MS, isLive, toSetElement, unbanElement, type SetElement } from './set-element.js';

/** Options of {@link DryRunEnforcer}. */
export interface DryRunOptions {
  /** Time source (ms since the epoch). */
  clock: Clock;
  logger: Logger;
  /** Expiries this close (ms) count as equal; default 5000. */
  toleranceMs?: number;
}

/** {@link Enforcer} that only logs what it would do. */
export class DryRunEnforcer implements Enforcer {
  readonly name = 'dry-run';
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly toleranceMs: number;
  private readonly elements = new Map<string, SetElement>();
  private readonly counts = { applied: 0, removed: 0, failed: 0, drift: 0 };

  constructor(opts: DryRunOptions) {
    this.clock = opts.clock;
    this.log = opts.logger.child({ enforcer: 'dry-run' });
    this.toleranceMs = opts.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  }

  async start(): Promise<void> {
    this.log.info('dry-run enforcer: no firewall will be changed');
  }

  async apply(bans: readonly BanEntry[], unbans: readonly string[]): Promise<void> {
    const now = this.clock();
    const intents: Intent[] = [];
    for (const target of unbans) {
      const el = this.parse(target, () => unbanElement(target));
      if (el) intents.push({ kind: 'unban', el });
    }
    for (const ban of bans) {
      const el = this.parse(ban.target, () => toSetElement(ban, now));
      if (el) intents.push({ kind: 'ban', el });
    }
    this.commit(planOps(intents, this.live(), this.toleranceMs));
  }

  async reconcile(all: readonly BanEntry[]): Promise<{ added: number; removed: number }> {
    const now = this.clock();
    const wanted: SetElement[] = [];
    for (const ban of all) {
      const el = this.parse(ban.target, () => toSetElement(ban, now));
      if (el) wanted.push(el);
    }
    const extra = diffElements([...this.live().values()], wanted, this.toleranceMs).extra;
    return this.commit(planOps([
      ...extra.map((el): Intent => ({ kind: 'unban', el })),
      ...wanted.map((el): Intent => ({ kind: 'ban', el })),
    ], this.live(), this.toleranceMs));
  }

  async list(): Promise<string[]> {
    return [...this.live().keys()];
  }

  report(): EnforcerReport {
    return { backend: this.name, elements: this.live().size, ...this.counts };
  }

  async stop(mode: 'flush' | 'keep'): Promise<void> {
    if (mode === 'flush') this.elements.clear();
    this.log.info({ mode }, 'dry-run enforcer stopped');
  }

  private commit(ops: readonly ElementOp[]): { added: number; removed: number } {
    const done = { added: 0, removed: 0 };
    for (const op of ops) {
      if (op.kind === 'delete') {
        this.elements.delete(op.el.key);
        done.removed++;
        this.counts.removed++;
      } else {
        this.elements.set(op.el.key, op.el);
        done.added++;
        this.counts.applied++;
      }
      const expiresMs = op.el.expiresMs;
      this.log.info({ target: op.el.key, op: op.kind, expiresMs }, 'dry-run: would change ban set');
    }
    return done;
  }

  private parse<T>(target: string, fn: () => T): T | null {
    try {
      return fn();
    } catch (err) {
      this.counts.failed++;
      this.log.warn({ err, target }, 'invalid ban target skipped');
      return null;
    }
  }

  private live(): Map<string, SetElement> {
    const now = this.clock();
    for (const [key, el] of this.elements) if (!isLive(el, now)) this.elements.delete(key);
    return this.elements;
  }
}
