/**
 * Picks the enforcement backend. `auto` takes nftables when `nft list tables` works, else
 * iptables + ipset when both run, else dry-run (with a warning). The detection is returned with
 * a summary that ends in `using <backend>`, for the agent's log line and `fleetban status`.
 */
import type { BlockType, Clock, EnforcerChoice, JailConfig, Logger } from '@fleetban/shared';
import { detectFirewall, type DetectOptions, type FirewallDetection } from './detect.js';
import type { Enforcer } from './enforcer.js';
import type { Runner } from './exec.js';
import { jailScopes, systemServices, type ServiceTable } from './port-scope.js';

/** What the backends need. */
export interface EnforcerDeps {
  runner: Runner;
  clock: Clock;
  logger: Logger;
  /** `[agent] blocktype`; default drop. */
  blockType?: BlockType;
  /** Every jail of the configuration: their `port` / `protocol` keys scope their bans. Default none. */
  jails?: readonly JailConfig[];
  /** Service names for `port = ssh`; default /etc/services. */
  services?: ServiceTable;
  /** nftables table name; default `fleetban`. */
  table?: string;
  /** Detection options (tests). */
  detect?: DetectOptions;
}

/**
 * Detects the firewall, then builds the chosen backend (`choice` is the agent's `enforcer`
 * option, default `auto`), loading only that backend's modules: an agent on nftables does not
 * carry the iptables driver, nor the dry-run one. Not started yet. Throws ConfigError for a jail's bad `port` or
 * `protocol`.
 */
export async function createEnforcer(
  choice: EnforcerChoice,
  deps: EnforcerDeps,
): Promise<{ enforcer: Enforcer; detected: FirewallDetection }> {
  const scopes = jailScopes(deps.jails ?? [], deps.services ?? systemServices());
  const detected = await detectFirewall(deps.runner, { ...deps.detect, lockFree: choice === 'dry-run' });
  const log = deps.logger;
  const common = { clock: deps.clock, logger: log, scopes, blockType: deps.blockType ?? 'drop' } as const;
  const backend = choice !== 'auto' ? choice
    : detected.nft ? 'nftables'
    : detected.ipset && detected.iptables !== 'none' ? 'iptables' : 'dry-run';
  if (choice === 'auto' && backend === 'dry-run') log.warn('neither nftables nor iptables + ipset is usable on this host; enforcing nothing (dry-run)');
  if (detected.legacyRules && detected.iptables === 'nft') {
    log.warn('iptables-legacy holds rules while iptables is iptables-nft: each set of rules is invisible to the other tool');
  }
  let enforcer: Enforcer;
  let how = '';
  if (backend === 'nftables') {
    const { NftablesEnforcer } = await import('./nftables.js');
    enforcer = new NftablesEnforcer({ ...common, runner: deps.runner, ...(deps.table ? { table: deps.table } : {}) });
  } else if (backend === 'iptables') {
    // rules go where Docker's chains are; else the host's default iptables
    const iptables = detected.dockerUser === 'legacy' ? 'iptables-legacy'
      : detected.dockerUser === 'nft' && detected.iptablesNft ? 'iptables-nft' : 'iptables';
    const { IptablesEnforcer } = await import('./iptables.js');
    enforcer = new IptablesEnforcer({ ...common, runner: deps.runner, iptables });
    how = ` (${iptables} + ipset)`;
  } else {
    const { DryRunEnforcer } = await import('./dry-run.js');
    enforcer = new DryRunEnforcer(common);
  }
  const forced = choice === 'auto' ? '' : ' (forced by [agent] enforcer)';
  return { enforcer, detected: { ...detected, summary: `${detected.summary}; using ${enforcer.name}${how}${forced}` } };
}
