/**
 * The redis-ha stack: read and validate the stack config, then build the firewall, the replica
 * set and the Sentinel quorum, and export what clients and operators need.
 */
import * as pulumi from "@pulumi/pulumi";
import { FirewallRules, HostAccessArgs, RedisReplicaSet, SentinelQuorum, renderClientSnippets, IOREDIS_RECOMMENDED_OPTIONS } from "./components";
import { platformFor } from "./stack/platform";
import { stackSettingsFromConfig } from "./stack/config";
import { regionZones } from "./components/core/regions";

const { settings, warnings } = stackSettingsFromConfig();
for (const warning of warnings) pulumi.log.warn(warning);

const name = `${pulumi.getProject()}-${pulumi.getStack()}`;
const platform = platformFor(settings, pulumi.getStack());
const redisPassword = pulumi.secret(settings.redisPassword);
const sentinelPassword = pulumi.secret(settings.sentinelPassword);

const firewall = new FirewallRules(name, {
    platform,
    appCidrs: settings.appCidrs,
    adminCidrs: settings.adminCidrs,
    redisPort: settings.redisPort,
    sentinelPort: settings.sentinelPort,
    allowWorldAccess: settings.allowWorldAccess,
});

const sshAccess: HostAccessArgs = {
    user: settings.sshUser,
    via: settings.sshVia,
    privateKey: settings.sshPrivateKey ? pulumi.secret(settings.sshPrivateKey) : undefined,
    timeoutSeconds: settings.checkTimeoutSeconds,
};
const replicaSet = new RedisReplicaSet(name, {
    platform,
    firewall,
    zones: settings.zones,
    zoneKind: regionZones(settings.cloud, settings.region).zoneKind,
    replicaCount: settings.replicaCount,
    masterName: settings.masterName,
    redisPassword,
    previousRedisPassword: settings.previousRedisPassword === undefined ? undefined : pulumi.secret(settings.previousRedisPassword),
    redis: {
        port: settings.redisPort,
        persistence: settings.persistence,
        maxmemory: settings.maxmemory,
        maxmemoryPolicy: settings.maxmemoryPolicy,
        minReplicasToWrite: settings.minReplicasToWrite,
        minReplicasMaxLag: settings.minReplicasMaxLag,
        replDisklessSyncDelay: settings.replDisklessSyncDelay,
    },
    sentinel: {
        count: settings.sentinelCount,
        placement: settings.sentinelPlacement,
        quorum: settings.quorum,
        port: settings.sentinelPort,
        authentication: settings.sentinelAuth,
        password: settings.sentinelAuth ? sentinelPassword : undefined,
        previousPassword: settings.previousSentinelPassword === undefined ? undefined : pulumi.secret(settings.previousSentinelPassword),
        downAfterMilliseconds: settings.downAfterMilliseconds,
        failoverTimeoutMilliseconds: settings.failoverTimeoutMilliseconds,
        parallelSyncs: settings.parallelSyncs,
    },
    instanceType: settings.instanceType,
    image: settings.image,
    sshPublicKeys: settings.sshPublicKeys,
    privateNetworkCidr: settings.privateNetworkCidr,
    // The same SSH access as the checks: without it a new image or size is refused.
    access: settings.checks ? sshAccess : undefined,
});

const quorum = new SentinelQuorum(name, {
    replicaSet,
    instanceType: settings.sentinelInstanceType,
    checks: { enabled: settings.checks, ...sshAccess, maxLagSeconds: settings.minReplicasMaxLag },
});

export const masterName = settings.masterName;
export const sentinelEndpoints = quorum.endpoints;
export const nodes = quorum.nodes;
export const planWarnings = warnings;
export const clients = quorum.endpoints.apply((sentinels) => renderClientSnippets({ masterName: settings.masterName, sentinels, sentinelAuth: settings.sentinelAuth, minReplicasToWrite: settings.minReplicasToWrite }));
export const ioredisOptions = IOREDIS_RECOMMENDED_OPTIONS;
/** The environment the client snippets read their passwords from; a secret. */
export const clientEnvironment = pulumi.secret(settings.sentinelAuth ? { REDIS_PASSWORD: redisPassword, REDIS_SENTINEL_PASSWORD: sentinelPassword } : { REDIS_PASSWORD: redisPassword });
export const health = quorum.checkReports.apply((reports) =>
    reports.map((r) => ({ ok: r.ok, agreedMaster: r.agreedMaster ?? null, replicasOnline: r.replicas.filter((x) => x.state === "online").length, failures: r.failures })),
);
