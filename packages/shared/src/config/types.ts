import type { ActionSpec } from '../actions/types.js';

/** bantime.increment family (fail2ban's names), for repeat offenders. */
export interface BantimeIncrement {
  /** bantime.increment; default false. */
  readonly enabled: boolean;
  /** bantime.factor; default 1. */
  readonly factor: number;
  /** bantime.multipliers (e.g. "1 2 4 8 16 32 64"); empty = use the exponential formula. */
  readonly multipliers: readonly number[];
  /** bantime.maxtime in ms; 0 = no cap. */
  readonly maxtimeMs: number;
  /** bantime.rndtime in ms; default 0. */
  readonly rndtimeMs: number;
  /**
   * bantime.formula (a safe subset of Python, see policy/bantime-formula.ts); default fail2ban's
   * `ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor`. Unused with multipliers.
   */
  readonly formula: string;
  /** bantime.overalljails: count the address's previous bans in every jail; default false. */
  readonly overalljails: boolean;
}

/**
 * What a jail is: `threshold` (fail2ban's jail: failures from a log filter, maxretry within
 * findtime) or `recidive` (a controller policy over the fleet's ban history: maxretry bans of an
 * address, in any other jail, within findtime).
 */
export type JailPolicy = 'threshold' | 'recidive';

/** The `backend` names that read a jail's logpath files. */
export type FileBackendName = 'auto' | 'polling' | 'pyinotify' | 'gamin';

/**
 * `backend = auto` (the default) | `polling` | `pyinotify` | `gamin`: the logpath files, all
 * read the same way (polling plus inotify). With `auto` only, a jail whose logpath names no
 * existing file reads the systemd journal instead when its filter has a journalmatch (see
 * docs/log-sources.md).
 */
export interface FileBackend {
  readonly kind: FileBackendName;
}

/** `backend = systemd[journalpath=DIR, journalfiles=FILE ...]`: the systemd journal through journalctl. */
export interface SystemdBackend {
  readonly kind: 'systemd';
  /** journalpath: an absolute journal directory (`journalctl --directory`); '' = the system journal. */
  readonly journalpath: string;
  /** journalfiles: absolute journal files (`journalctl --file`); none = the system journal. */
  readonly journalfiles: readonly string[];
}

/** `backend = docker[container=NAME or ID, root=DIR]`: a container's json-file log. */
export interface DockerBackend {
  readonly kind: 'docker';
  /** Container name (without a leading `/`) or id (full, or a prefix of 12 or more hex digits). */
  readonly container: string;
  /** root: Docker's data root, absolute; default /var/lib/docker. */
  readonly root: string;
}

/** Where a jail's lines come from: fail2ban's `backend` key, read once when the file is loaded. */
export type JailBackend = FileBackend | SystemdBackend | DockerBackend;

/** One jail, as read from a jail section with [DEFAULT] applied. */
export interface JailConfig {
  readonly name: string;
  /** policy; default threshold. */
  readonly policy: JailPolicy;
  /** enabled; default false (as in fail2ban). */
  readonly enabled: boolean;
  /** filter; default the jail's name. */
  readonly filter: string;
  /** backend; default auto. */
  readonly backend: JailBackend;
  /** logpath: one glob per line; default none. */
  readonly logpath: readonly string[];
  /** failregex lines that replace/extend the filter's; default none. */
  readonly failregex: readonly string[];
  /** ignoreregex lines; default none. */
  readonly ignoreregex: readonly string[];
  /** ignoreip, canonical CIDR text; default 127.0.0.1/8 ::1. */
  readonly ignoreip: readonly string[];
  /** maxretry; default 5. */
  readonly maxretry: number;
  /** findtime in ms; default 10m. */
  readonly findtimeMs: number;
  /** bantime in ms, -1 = permanent; default 10m. */
  readonly bantimeMs: number;
  /** maxmatches; default = maxretry. */
  readonly maxmatches: number;
  /** maxretry_per_host: failures one host may add to the fleet-wide count; 0 = no cap (default). */
  readonly maxretryPerHost: number;
  /** min_hosts: distinct reporting hosts a fleet-wide ban needs; default 1. */
  readonly minHosts: number;
  readonly increment: BantimeIncrement;
  /**
   * `action` (run once per decision on the active controller) and `host_action` (run on each
   * host that enforces the ban), one per line; firewall actions are left to the agent. Default none.
   */
  readonly actions: readonly ActionSpec[];
  /** Extra filter directories (`[agent] filter_path`), searched after the built-in ones; loaded files always set it. */
  readonly filterPath?: readonly string[];
  /**
   * Every key of the jail as written ([DEFAULT]'s overridden by the jail's own), fail2ban-only
   * keys included (backend, journalmatch, port, protocol, datepattern, ...), with where each was
   * written, for the stage that reads it to validate and to name in its errors.
   */
  readonly options: Readonly<Record<string, JailOption>>;
}

/** One raw jail key as written. */
export interface JailOption {
  readonly value: string;
  readonly file: string;
  readonly section: string;
  readonly line: number;
}

/** Enforcement backend choice. */
export type EnforcerChoice = 'auto' | 'nftables' | 'iptables' | 'dry-run';
/** What a ban does to a packet. */
export type BlockType = 'drop' | 'reject';
/** What the agent leaves in the firewall when it stops. */
export type OnStop = 'flush' | 'keep';

/** A TCP address to listen on (`metrics = 127.0.0.1:9608`). */
export interface ListenAddress {
  /** An IPv4 or IPv6 address (without brackets) or a host name. */
  readonly host: string;
  /** 1 to 65535. */
  readonly port: number;
}

/** The `[agent]` section. */
export interface AgentConfig {
  /** enforcer; default auto (nftables when `nft` works, else dry-run with a warning). */
  readonly enforcer: EnforcerChoice;
  /** on_stop; default flush (remove fleetban's table; bans are restored from the list on start). */
  readonly onStop: OnStop;
  /** heartbeat interval in ms; default 5s. */
  readonly heartbeatMs: number;
  /** reconcile interval in ms; default 30s. */
  readonly reconcileMs: number;
  /** poll interval of the log tail in ms; default 100. */
  readonly pollMs: number;
  /** buffer: failures kept in memory while NATS is unreachable; default 10000. */
  readonly buffer: number;
  /** blocktype: drop or reject banned packets; default drop. */
  readonly blockType: BlockType;
  /** max_line: longest log line read, in bytes; longer lines are skipped and counted; default 65536. */
  readonly maxLineBytes: number;
  /** spool: bytes of unpublished failures kept on disk under state_dir when NATS is slow or down; default 64 MiB. */
  readonly spoolBytes: number;
  /**
   * filter_path: extra filter directories, searched after the project's filter.d and
   * /etc/fail2ban/filter.d; default none.
   */
  readonly filterPath: readonly string[];
  /** metrics: where Prometheus metrics are served (`GET /metrics`); default null (off). */
  readonly metrics: ListenAddress | null;
}

/** The `[controller]` section. */
export interface ControllerConfig {
  /** ignoreip applied to every jail, on top of the jails' own; default none. */
  readonly ignoreip: readonly string[];
  /** expire_interval in ms: how often expired bans are removed; default 1s. */
  readonly expireMs: number;
  /** events_max_age in ms: how long the events stream keeps failures; default 1d. */
  readonly eventsMaxAgeMs: number;
  /** max_tracked: addresses tracked per jail before the oldest are dropped; default 100000. */
  readonly maxTracked: number;
  /** max_clock_skew in ms: how far in the future an event's time may lie; default 60s. */
  readonly maxClockSkewMs: number;
  /** min_prefix_v4: shorter IPv4 prefixes need `fleetban ban --force`; default 16. */
  readonly minPrefixV4: number;
  /** min_prefix_v6: shorter IPv6 prefixes need `fleetban ban --force`; default 32. */
  readonly minPrefixV6: number;
  /** lease_ttl in ms: how long a silent active controller keeps the lease before a standby takes over; default 1s. */
  readonly leaseTtlMs: number;
  /**
   * snapshot_interval in ms: how often the active controller saves its windows, bans and history
   * (when they changed) so a restart or a takeover replays only what came after; 0 = never
   * (then a start replays the longest findtime); default 10s.
   */
  readonly snapshotMs: number;
  /** max_bantime in ms: the longest finite bantime; longer manual bans are refused, threshold bans cut; default 365d. */
  readonly maxBantimeMs: number;
  /**
   * dbpurgeage in ms (fail2ban's fail2ban.conf option): a (jail, address)'s ban history is
   * forgotten once its last ban ended longer ago than this; default 1d.
   */
  readonly dbPurgeAgeMs: number;
  /**
   * replicas: how many NATS servers keep a copy of the events stream and of the KV buckets the
   * controller creates (1 to 5; 3 for a 3-node cluster, which then rides through the loss of any
   * one node); default 1.
   */
  readonly replicas: number;
  /** metrics: where Prometheus metrics are served (`GET /metrics`); default null (off). */
  readonly metrics: ListenAddress | null;
  /** web: where the web view of the fleet is served (docs/web.md); default null (off). */
  readonly web: ListenAddress | null;
  /**
   * web_token: the read-only token of the web view, inline or `file:/path` (read when the view
   * starts); default '' (the view is not served without it).
   */
  readonly webToken: string;
  /** web_admin_token: the token that may also ban and unban from the web view, as web_token; default '' (none). */
  readonly webAdminToken: string;
}

/** The `[fleetban]` section: who this host is and where the fleet meets. */
export interface FleetConfig {
  /** host; default the machine's hostname (as a subject token). */
  readonly host: string;
  /** nats: server URLs, space separated; default nats://127.0.0.1:4222. */
  readonly servers: readonly string[];
  /** nats_user / nats_password / nats_token / nats_creds; default none. */
  readonly user: string;
  readonly password: string;
  readonly token: string;
  readonly creds: string;
  /**
   * nats_nkey: absolute path of this host's nkey seed file; default none, in which case the
   * client looks for `<state_dir>/credentials/<role name>.nk` (see `clientAuth`).
   */
  readonly nkey: string;
  /**
   * admin_nkey: absolute path of the seed the admin verbs (`ban`, `unban`, `status`, `banned`) use;
   * default none: `<state_dir>/credentials/admin.nk` if it exists, else the host's credentials.
   */
  readonly adminNkey: string;
  /** tls_ca / tls_cert / tls_key: absolute paths for client TLS; default none. */
  readonly tlsCa: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** state_dir; default /var/lib/fleetban. */
  readonly stateDir: string;
  /** addresses: extra addresses this host is reached at (behind NAT), canonical text; default none. */
  readonly addresses: readonly string[];
  /**
   * action_path: directories searched for action.d files (a jail's `action`/`host_action` that is
   * not a built-in kind), before /etc/fail2ban/action.d; default none.
   */
  readonly actionPath: readonly string[];
}

/** A whole configuration file, validated. */
export interface FleetbanConfig {
  /** The file it was read from ('' for built-in defaults). */
  readonly file: string;
  readonly fleet: FleetConfig;
  readonly agent: AgentConfig;
  readonly controller: ControllerConfig;
  /** Every jail section (enabled or not). */
  readonly jails: readonly JailConfig[];
  /** The [DEFAULT] section applied to a jail with no section of its own (name ''): used for jails
   * the controller hears of but has no section for, and for manual bans. */
  readonly jailDefaults: JailConfig;
}
