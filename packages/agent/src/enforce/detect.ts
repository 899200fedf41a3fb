/**
 * Which firewall world the host lives in: native nftables, iptables-nft ("compat mode") or
 * iptables-legacy, with Docker and firewalld alongside. Each probe only reads; a missing tool
 * is an answer ("no"), never a failure.
 */
import { existsSync } from 'node:fs';
import type { Runner } from './exec.js';

/** What {@link detectFirewall} found. */
export interface FirewallDetection {
  /** `nft list tables` works (nft installed, kernel support, enough privilege). */
  nft: boolean;
  /** Which iptables `iptables` is: the nf_tables one, the legacy one, or none at all. */
  iptables: 'nft' | 'legacy' | 'none';
  /** Docker's socket exists or its DOCKER-USER chain does. */
  docker: boolean;
  /** firewalld is running. */
  firewalld: boolean;
  /** One line for the log and `status`. */
  summary: string;
}

/** Injected file checks (tests); default `fs.existsSync`. */
export interface DetectOptions {
  exists?: (path: string) => boolean;
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
  const [nftVersion, nftTables, iptVersion] = await Promise.all([
    probe('nft', ['--version']),
    probe('nft', ['list', 'tables']),
    probe('iptables', ['--version']),
  ]);
  const nft = nftTables !== null;
  const iptables = iptVersion === null ? 'none' : iptVersion.includes('nf_tables') ? 'nft' : 'legacy';
  const docker = exists('/var/run/docker.sock')
    || (iptables !== 'none' && (await probe('iptables', ['-S', 'DOCKER-USER'])) !== null);
  const firewalld = exists('/var/run/firewalld') || (await probe('firewall-cmd', ['--state'])) !== null;

  const parts = [
    nft ? `nftables usable (${(nftVersion ?? 'nft').trim().split('\n')[0]})` : 'nftables not usable',
    iptables === 'nft' ? 'iptables is iptables-nft (compat mode)'
      : iptables === 'legacy' ? 'iptables is iptables-legacy (do not mix with iptables-nft rules)' : 'no iptables',
    docker ? 'docker present' : 'no docker',
    firewalld ? 'firewalld running' : 'no firewalld',
  ];
  return { nft, iptables, docker, firewalld, summary: parts.join('; ') };
}
