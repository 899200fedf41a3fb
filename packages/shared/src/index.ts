/**
 * @fleetban/shared: the only public door of the shared package. Agent and controller import from
 * here and nowhere else. The lists are explicit: a name is here when another package, a test or a
 * bench uses it, or when a name here needs it in its signature; the rest stays inside (the
 * package's own tests import its modules).
 */

// Errors: one class per failure kind
export {
  FleetbanError,
  ConfigError,
  ParseError,
  DecodeError,
  NatsError,
  CredentialsError,
  MembershipError,
  ExecError,
  AdminError,
  BanRefusedError,
  ListenError,
} from './errors.js';

// Addresses, networks, allowlists
export { tryParseAddress, parseNetwork, networkContains, networksOverlap, hostNetwork, normalizeTarget } from './ip/address.js';
export type { Family, Address, Network } from './ip/address.js';
export { v4Of, v4Text } from './ip/v4-number.js';
export { fmix32, fnv1a } from './hash.js';
export { Allowlist } from './ip/allowlist.js';
export { interfaceAddresses, serverAddresses } from './ip/own-addresses.js';

// Time: durations, the clock, deadlines
export { parseDuration, formatDuration, PERMANENT } from './time/duration.js';
export { systemClock } from './time/clock.js';
export type { Clock } from './time/clock.js';
export { settlesWithin } from './time/deadline.js';

// The model: failures, bans, heartbeats, admin requests and replies, and their size limits
export type { FailureEvent } from './model/failure.js';
export { banId, isActive } from './model/ban.js';
export type { BanReason, BanDecision } from './model/ban.js';
export type { Heartbeat } from './model/heartbeat.js';
export { ADMIN_LIMITS } from './model/admin.js';
export type {
  AdminVerb,
  IgnoreOp,
  AdminRequest,
  IgnoreEntry,
  JailOptionValue,
  ConfigChange,
  JailStatus,
  HostStatus,
  AdminReply,
} from './model/admin.js';
export type { ControllerAlive } from './model/controller-alive.js';
export { WIRE_LIMITS } from './model/wire-limits.js';

// The wire: the protobuf codec, NATS subjects, stream and bucket names
export {
  encodeFailure,
  decodeFailure,
  encodeBan,
  decodeBan,
  encodeHeartbeat,
  decodeHeartbeat,
  encodeControllerAlive,
  decodeControllerAlive,
  encodeAdminRequest,
  decodeAdminRequest,
  encodeAdminReply,
  decodeAdminReply,
} from './proto/codec.js';
export {
  eventSubject,
  heartbeatSubject,
  controllerAliveSubject,
  adminSubject,
  checkToken,
  hostOfSubject,
  subjectNamesHost,
  banKey,
  targetOfBanKey,
  historyKey,
  hostPermissions,
  EVENTS_STREAM,
  CONTROLLER_DURABLE,
  BANS_BUCKET,
  SNAPSHOT_STREAM,
  HISTORY_BUCKET,
  LEASE_BUCKET,
  HOSTS_BUCKET,
  IGNORE_BUCKET,
  HEARTBEAT_WILDCARD,
  ADMIN_WILDCARD,
} from './subjects.js';
export type { NatsPermissions } from './subjects.js';

// Logs
export { createLogger, flushLogs, logOutput, silentLogger } from './log/logger.js';
export type { Logger, LoggerOptions, LogOutput } from './log/logger.js';

// Configuration: fleetban.conf, its views, the settable jail options
export type {
  BantimeIncrement,
  JailPolicy,
  FileBackendName,
  FileBackend,
  SystemdBackend,
  DockerBackend,
  JailBackend,
  JailConfig,
  JailOption,
  EnforcerChoice,
  BlockType,
  OnStop,
  ListenAddress,
  AgentConfig,
  ControllerConfig,
  FleetConfig,
  FleetbanConfig,
} from './config/types.js';
export { loadConfig, parseConfig, configFromStore } from './config/load.js';
export type { LoadOptions } from './config/load.js';
export { configView, settingDefaults } from './config/config-view.js';
export type { ConfigValue, ConfigSectionView } from './config/config-view.js';
export { isJailSetting, jailSetting, withJailSetting, JAIL_SETTING_NAMES, SETTABLE_JAIL_OPTIONS } from './config/jail-setting.js';

// fail2ban's .conf files: layering, interpolation, tags, filter and action definitions
export type { IniEntry, IniSection, IniDocument } from './f2bconf/ini-file.js';
export { readConfFiles, confFilesOf, ConfStore } from './f2bconf/conf-store.js';
export { interpolate } from './f2bconf/interpolate.js';
export type { InterpolationContext } from './f2bconf/interpolate.js';
export { substituteTags, TagRecursionError } from './f2bconf/tag-substitution.js';
export { readDefinition, parseNameOptions } from './f2bconf/definition.js';
export type { DefinitionValues, DefinitionRequest } from './f2bconf/definition.js';

// NATS: the connection, the events and actions streams, the buckets, admin requests
export { checkFleetCredentials, connectFleet, onConnectionChange, onReconnect } from './nats/connection.js';
export type { NatsConnection, Msg, Subscription, ConnectOptions } from './nats/connection.js';
export { clientAuth, namesCredentials } from './nats/client-auth.js';
export type { ClientRole, ClientAuth } from './nats/client-auth.js';
export { StreamPublisher } from './nats/stream-publisher.js';
export type { StreamPublisherOptions } from './nats/stream-publisher.js';
export {
  jetstream,
  ensureEventsStream,
  resetControllerConsumer,
  replayAcked,
  controllerAckFloor,
  controllerConsumer,
  sendFailure,
  publishFailure,
} from './nats/events-stream.js';
export type { JsMsg, JetStreamClient, ReplayStart } from './nats/events-stream.js';
export {
  decodeBanEvent,
  ensureActionsStream,
  queueAction,
  actionConsumer,
  queuedActions,
  ACTIONS_STREAM,
  ACTION_HEADER,
} from './nats/actions-stream.js';
export { decodeOffence, BanList, OffenceHistory } from './nats/ban-list.js';
export type { BanChange, BanListWatch, Offence, BanListOptions } from './nats/ban-list.js';
export { HostRecords } from './nats/host-records.js';
export { IgnoreList } from './nats/ignore-list.js';
export type { IgnoreListWatch } from './nats/ignore-list.js';
export { LeaseBucket } from './nats/lease-bucket.js';
export { SnapshotStream, SNAPSHOT_PART_BYTES } from './nats/snapshot-stream.js';
export type { SnapshotHead } from './nats/snapshot-stream.js';
export type { BucketPosition } from './nats/kv-tail.js';
export type { LeaseEntry } from './nats/lease-bucket.js';
export type { CreateOptions } from './nats/replicas.js';
export { adminRequest, adminClientOf } from './nats/admin-request.js';

// Credentials: members, seeds, where they live, nats-server's authorization
export { checkMemberName, CONTROLLER_MEMBER, ADMIN_MEMBER } from './credentials/member.js';
export type { MemberRole, Member } from './credentials/member.js';
export { seedFile, natsDir, authorizationFile, natsPidFile } from './credentials/locations.js';
export { readSeedFile } from './credentials/seed-file.js';
export { renderAuthorization } from './credentials/authorization-file.js';
export { Membership } from './credentials/membership.js';
export type { Enrolled } from './credentials/membership.js';

// Policy (pure, used by the controller and by the agent's local decisions): window, threshold,
// guards, bantime, recidive
export { hostsOf, FailureWindow } from './policy/failure-window.js';
export { copyRow, RowCopy, WindowCapture } from './policy/failure-window-capture.js';
export type { RowVisit } from './policy/failure-window-capture.js';
export { decodeLines, encodeLines, LineArena, recordLength } from './policy/line-arena.js';
export type { RecordView } from './policy/line-arena.js';
export type { CapturedAddress, Tracked, WindowOptions } from './policy/failure-window.js';
export { judgeFailure, scopeIncludes } from './policy/threshold.js';
export type { ThresholdRule, FailureFacts, ThresholdContext, ThresholdVerdict } from './policy/threshold.js';
export { allowlistSpace, BanGuard } from './policy/guards.js';
export type { RefusalCode, Refusal, ProtectedSpace, GuardLimits, BanAsk } from './policy/guards.js';
export { banDuration, banExpiry } from './policy/bantime.js';
export { DEFAULT_BANTIME_FORMULA } from './policy/bantime-formula.js';
export { bansInWindow, isRecidive, withBanTime } from './policy/recidive.js';
export type { BanTimes } from './policy/recidive.js';

// Actions: what a ban runs besides the firewall (fail2ban's action.d files, built-in kinds)
export { ActionError } from './actions/types.js';
export type { BanEvent, ActionSite, ActionSpec, ActionRunner } from './actions/types.js';
export { buildActions } from './actions/build.js';
export type { ActionContext } from './actions/build.js';
export { DEFAULT_ACTION_PATH } from './actions/action-file.js';
export { escapeTag } from './actions/event-tags.js';
export { isFirewallAction, splitActions } from './config/jail-actions.js';

// Metrics: the registry and its HTTP page
export { MetricRegistry, LATENCY_BUCKETS } from './metrics/metric-registry.js';
export type { Labels, MetricRows, Observe } from './metrics/metric-registry.js';
export { listenHttp, serveMetricsIfSet } from './metrics/metrics-server.js';
export type { MetricsPage, MetricsServer, HttpListener } from './metrics/metrics-server.js';
