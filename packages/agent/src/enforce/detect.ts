/**
 * Which firewall world the host lives in: native nftables, iptables-nft ("compat mode") or
 * iptables-legacy, ipset, Docker (its DOCKER-USER chain, and in which of the two iptables) and
 * firewalld. Each probe only reads; a missing tool is an answer ("no"), never a failure.
 */
import { existsSync } from 'node:fs';
import type { Runner } from './exec.js';

/** What {@link detectFirewall} found. */
export interface FirewallDetection {
  /** `nft list tables` works (nft installed, kernel support, enough privilege). */
  nft: boolean;
  /** Which iptables the plain `iptables` command is: the nf_tables one, the legacy one, or none at all. */
  iptables: 'nft' | 'legacy' | 'none';
  /** `iptables-nft` runs. */
  iptablesNft: boolean;
  /** `iptables-legacy` runs. */
  iptablesLegacy: boolean;
  /** iptables-legacy holds rules (mixing them with iptables-nft rules is a classic silent failure). */
  legacyRules: boolean;
  /** `ipset` runs. */
  ipset: boolean;
  /** Where Docker's DOCKER-USER chain lives, or null. */
  dockerUser: 'nft' | 'legacy' | null;
  /** Docker's socket exists or its DOCKER-USER chain does. */
  docker: boolean;
  /** firewalld is running. */
  firewalld: boolean;
  /** One line: what was found (createEnforcer appends the backend used). */
  summary: string;
}

/** Injected file checks (tests); default `fs.existsSync`. */
export interface DetectOptions {
  exists?: (path: string) => boolean;
  /**
   * Skip the probes that wait for iptables' lock (`iptables -w -S DOCKER-USER`, `iptables-save`):
   * for a forced dry-run, which changes nothing and needs them only for its summary. Another
   * program holding /run/xtables.lock (shared by every network namespace) would hold its start.
   */
  lockFree?: boolean;
}

/** Probes the host with `runner`; never rejects. */
export async function detectFirewall(runner: Runner, opts: DetectOptions = {}): Promise<FirewallDetection> {
  const exists = opts.exists ?? existsSync;
  const probe = async (file: string, args: string[]): Promise<string | null> => {
    try {
      return (await runner(file, args)).stdout;
    } catch {
      return null;
    }
  };
  const [nftVersion, nftTables, iptVersion, nftIpt, legacyIpt, ipsetVersion, firewallCmd] = await Promise.all([
    probe('nft', ['--version']),
    probe('nft', ['list', 'tables']),
    probe('iptables', ['--version']),
    probe('iptables-nft', ['--version']),
    probe('iptables-legacy', ['--version']),
    probe('ipset', ['--version']),
    probe('firewall-cmd', ['--state']),
  ]);
  const nft = nftTables !== null;
  const iptables = iptVersion === null ? 'none' : iptVersion.includes('nf_tables') ? 'nft' : 'legacy';
  const iptablesNft = nftIpt !== null || iptables === 'nft';
  const iptablesLegacy = legacyIpt !== null || iptables === 'legacy';
  const legacyCmd = legacyIpt !== null ? 'iptables-legacy' : 'iptables';
  const nftCmd = nftIpt !== null ? 'iptables-nft' : 'iptables';
  const locking = !opts.lockFree;
  const [legacySave, nftDockerUser, legacyDockerUser] = await Promise.all([
    locking && iptablesLegacy ? probe(legacyCmd === 'iptables' ? 'iptables-save' : 'iptables-legacy-save', []) : null,
    locking && iptablesNft ? probe(nftCmd, ['-w', '-S', 'DOCKER-USER']) : null,
    locking && iptablesLegacy ? probe(legacyCmd, ['-w', '-S', 'DOCKER-USER']) : null,
  ]);
  const legacyRules = legacySave !== null && /^-A /m.test(legacySave);
  const dockerUser = legacyDockerUser !== null ? 'legacy' : nftDockerUser !== null ? 'nft' : null;
  const docker = exists('/var/run/docker.sock') || dockerUser !== null;
  const firewalld = firewallCmd !== null || exists('/var/run/firewalld/firewalld.pid');
  const found: FirewallDetection = {
    nft, iptables, iptablesNft, iptablesLegacy, legacyRules, ipset: ipsetVersion !== null, dockerUser, docker, firewalld, summary: '',
  };
  found.summary = describeFirewall(found, nftVersion);
  return found;
}

/**
 * E.g. `nftables native (nftables v1.0.6); iptables is iptables-nft (compat) with DOCKER-USER
 * present; iptables-legacy unused; ipset present; docker present; firewalld absent`.
 */
export function describeFirewall(d: Omit<FirewallDetection, 'summary'>, nftVersion: string | null = null): string {
  const version = (nftVersion ?? '').trim().split('\n')[0]?.replace(/\s*\(.*\)$/, '');
  const parts = [
    d.nft ? `nftables native${version ? ` (${version})` : ''}` : 'nftables not usable',
    d.iptables === 'nft' ? 'iptables is iptables-nft (compat)'
      : d.iptables === 'legacy' ? 'iptables is iptables-legacy' : 'no iptables command',
  ];
  if (d.dockerUser) parts[1] += ` with DOCKER-USER present (in iptables-${d.dockerUser})`;
  if (d.iptablesLegacy) {
    parts.push(d.legacyRules
      ? (d.iptables === 'nft' ? 'iptables-legacy rules present too (mixed: rules in one are invisible to the other)' : 'iptables-legacy rules present')
      : 'iptables-legacy unused');
  }
  parts.push(d.ipset ? 'ipset present' : 'no ipset');
  parts.push(d.docker ? 'docker present' : 'docker absent');
  parts.push(d.firewalld ? 'firewalld running' : 'firewalld absent');
  return parts.join('; ');
}
