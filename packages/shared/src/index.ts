/**
 * @fleetban/shared: the only public door of the shared package. Agent and controller import from
 * here and nowhere else.
 */
export * from './errors.js';
export * from './ip/address.js';
export * from './ip/allowlist.js';
export * from './ip/own-addresses.js';
export * from './time/duration.js';
export * from './time/clock.js';
export * from './time/deadline.js';
export * from './model/failure.js';
export * from './model/ban.js';
export * from './model/heartbeat.js';
export * from './model/admin.js';
export * from './model/controller-alive.js';
export * from './proto/codec.js';
export * from './subjects.js';
export * from './log/logger.js';
export * from './config/types.js';
export * from './config/load.js';
export * from './nats/connection.js';
export * from './nats/stream-publisher.js';
export * from './nats/client-auth.js';
export * from './credentials/member.js';
export * from './credentials/locations.js';
export * from './credentials/seed-file.js';
export * from './credentials/members-file.js';
export * from './credentials/authorization-file.js';
export * from './credentials/membership.js';
export * from './nats/events-stream.js';
export * from './nats/ban-list.js';
export * from './nats/host-records.js';
export * from './nats/lease-bucket.js';
export * from './nats/replicas.js';
export * from './nats/admin-request.js';
export * from './policy/failure-window.js';
export * from './policy/bantime.js';
export * from './policy/bantime-formula.js';
export * from './policy/recidive.js';
export * from './policy/guards.js';
export * from './policy/threshold.js';
export * from './model/wire-limits.js';
export * from './f2bconf/ini-file.js';
export * from './f2bconf/conf-store.js';
export * from './f2bconf/interpolate.js';
export * from './f2bconf/tag-substitution.js';
export * from './f2bconf/definition.js';
