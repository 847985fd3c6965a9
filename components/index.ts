/**
 * The public surface: `import { RedisReplicaSet, SentinelQuorum, FirewallRules } from "redis-ha"`.
 * No platform adapter is loaded here: each is a subpath (`redis-ha/ovh`, `redis-ha/digitalocean`,
 * `redis-ha/lab`), so a program loads only the provider SDK of the cloud it uses.
 */
export { FirewallRules } from "./firewallRules";
export type { FirewallRulesArgs } from "./firewallRules";
export { RedisReplicaSet } from "./redisReplicaSet";
export type { RedisReplicaSetArgs, RedisOptions, SentinelOptions, NodeRow } from "./redisReplicaSet";
export { SentinelQuorum } from "./sentinelQuorum";
export type { SentinelQuorumArgs, SentinelChecksArgs } from "./sentinelQuorum";
export type { HostAccessArgs } from "./hostAccess";
export * from "./platforms/platform";
export { IOREDIS_RECOMMENDED_OPTIONS, renderClientSnippets } from "./core/clientConfig";
export type { ClientSnippets } from "./core/clientConfig";
export { parseCheckOutput, parseReplicationInfo } from "./core/checkOutput";
export type { CheckReport } from "./core/checkOutput";
export { ConfigValidationError } from "./core/errors";
export type { SettingProblem } from "./core/errors";
export { buildFirewallPolicy } from "./core/firewallPolicy";
export type { FirewallPolicy, FirewallRule } from "./core/firewallPolicy";
export { validateStackConfig } from "./core/settings";
export type { StackSettings } from "./core/settings";
export type { DeploymentConfig, MaxmemoryPolicy, Persistence, SentinelPlacement } from "./core/model";
export { resolveReplicaSetSettings } from "./core/replicaSetSettings";
export { planReplicaSet } from "./core/replicaSetPlan";
export type { ReplicaSetPlan, ReplicaSetPlanArgs } from "./core/replicaSetPlan";
export { SETTINGS_SCHEMA } from "./core/settingsSchema";
export { planTopology } from "./core/topology";
export type { HostPlan, TopologyPlan } from "./core/topology";
export type { ZoneKind } from "./core/regions";
