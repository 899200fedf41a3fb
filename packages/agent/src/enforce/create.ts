/**
 * Picks the enforcement backend. `auto` takes nftables when `nft list tables` works on this host
 * and falls back to dry-run (with a warning) when it does not; the detection is returned so the
 * agent can log and report which firewall world it runs in.
 */
import type { Clock, EnforcerChoice, Logger } from '@fleetban/shared';
import { detectFirewall, type FirewallDetection } from './detect.js';
import { DryRunEnforcer } from './dry-run.js';
import type { Enforcer } from './enforcer.js';
import type { Runner } from './exec.js';
import { NftablesEnforcer } from './nftables.js';

/** What the backends need. */
export interface EnforcerDeps {
  runner: Runner;
  clock: Clock;
  logger: Logger;
  /** nftables table name; default `fleetban`. */
  table?: string;
}

/**
 * Detects the firewall, then builds the chosen backend (`choice` is the agent's `enforcer`
 * option, default `auto`). Not started yet; the caller logs `detected.summary`.
 */
export async function createEnforcer(
  choice: EnforcerChoice,
  deps: EnforcerDeps,
): Promise<{ enforcer: Enforcer; detected: FirewallDetection }> {
  const detected = await detectFirewall(deps.runner);
  const log = deps.logger;
  const useNft = choice === 'nftables' || (choice === 'auto' && detected.nft);
  if (choice === 'auto' && !detected.nft) {
    log.warn('nftables is not usable on this host; enforcing nothing (dry-run)');
  }
  const enforcer: Enforcer = useNft
    ? new NftablesEnforcer({ runner: deps.runner, clock: deps.clock, logger: log, table: deps.table })
    : new DryRunEnforcer({ clock: deps.clock, logger: log });
  return { enforcer, detected };
}
