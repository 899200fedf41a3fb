/**
 * The dry-run backend: touches no firewall. Its driver keeps the sets in memory (expiring by
 * the injected clock) and logs each element it would add or delete, so `list()`, `report()`,
 * batching and reconcile behave exactly as with a real backend. Chosen explicitly
 * (`enforcer = dry-run`), or by `auto` when neither nft nor iptables is usable.
 */
import type { Clock, Logger } from '@fleetban/shared';
import type { JailScopes } from './port-scope.js';
import type { ElementOp } from './reconcile.js';
import type { KernelState, SetDriver } from './set-driver.js';
import { SetEnforcer } from './set-enforcer.js';
import { isLive, kernelExpiry, MAX_TIMEOUT_S, type SetElement } from './set-element.js';

/** Options of {@link DryRunEnforcer}. */
export interface DryRunOptions {
  /** Time source (ms since the epoch). */
  clock: Clock;
  logger: Logger;
  /** Port scopes by jail; default none. */
  scopes?: JailScopes;
  /** Expiries this close (ms) count as equal; default 5000. */
  toleranceMs?: number;
}

/** {@link SetDriver} that only logs: an in-memory set. */
class MemoryDriver implements SetDriver {
  readonly name = 'dry-run';
  readonly maxTimeoutS = MAX_TIMEOUT_S;
  readonly singlePorts = false;
  private readonly elements = new Map<string, SetElement>();

  constructor(private readonly log: Logger) {}

  async read(nowMs: number): Promise<KernelState> {
    for (const [key, el] of this.elements) if (!isLive(el, nowMs)) this.elements.delete(key);
    return { structure: 'ok', problems: [], elements: [...this.elements.values()] };
  }

  async ensure(): Promise<void> {
    this.log.info('dry-run enforcer: no firewall will be changed');
  }

  async write(ops: readonly ElementOp[], nowMs: number): Promise<void> {
    for (const op of ops) {
      if (op.kind === 'delete') this.elements.delete(op.el.key);
      else this.elements.set(op.el.key, kernelExpiry(op.el, nowMs, this.maxTimeoutS));
      this.log.info({ target: op.el.key, op: op.kind, expiresMs: op.el.expiresMs }, 'dry-run: would change ban set');
    }
  }

  async remove(): Promise<void> {
    this.elements.clear();
    this.log.info('dry-run: would remove every ban');
  }
}

/** {@link Enforcer} that only logs what it would do. */
export class DryRunEnforcer extends SetEnforcer {
  constructor(opts: DryRunOptions) {
    const log = opts.logger.child({ enforcer: 'dry-run' });
    super(new MemoryDriver(log), {
      clock: opts.clock,
      logger: log,
      ...(opts.scopes ? { scopes: opts.scopes } : {}),
      ...(opts.toleranceMs !== undefined ? { toleranceMs: opts.toleranceMs } : {}),
    });
  }
}
