/**
 * A whole deployment from validated settings: the firewall, the replica set and the Sentinel
 * quorum, wired as the stack program wires them, and what clients and operators need from them.
 * The stack program (index.ts) and the RedisHa component (for other languages) both build through
 * this, so the two cannot drift apart.
 */
import { clientEnvironmentOf } from "./core/aclUsers";
import * as pulumi from "@pulumi/pulumi";
import { IOREDIS_RECOMMENDED_OPTIONS, renderClientSnippets } from "./core/clientConfig";
import { MonitoringOutputs, renderMonitoring } from "./core/monitoring";
import { regionZones } from "./core/regions";
import type { StackSettings } from "./core/settingsSchema";
import { FirewallRules } from "./firewallRules";
import type { HostAccessArgs } from "./hostAccess";
import type { Platform } from "./platforms/platform";
import { RedisReplicaSet } from "./redisReplicaSet";
import { SentinelQuorum } from "./sentinelQuorum";

/** The deployment's secrets, as Pulumi secrets or values to make secret. */
export interface DeploymentSecretInputs {
    redisPassword: pulumi.Input<string>;
    /** Unused when settings.sentinelAuth is false. */
    sentinelPassword?: pulumi.Input<string>;
    previousRedisPassword?: pulumi.Input<string>;
    previousSentinelPassword?: pulumi.Input<string>;
    sshPrivateKey?: pulumi.Input<string>;
}

/** One node's health as the post-deploy check found it. */
export interface NodeHealth {
    ok: boolean;
    /** "address:port" every Sentinel names as master, or null when they do not agree. */
    agreedMaster: string | null;
    replicasOnline: number;
    failures: string[];
}

export interface Deployment {
    firewall: FirewallRules;
    replicaSet: RedisReplicaSet;
    quorum: SentinelQuorum;
    sentinelEndpoints: pulumi.Output<string[]>;
    clients: pulumi.Output<ReturnType<typeof renderClientSnippets>>;
    /** The environment the client snippets read their passwords from; a secret. */
    clientEnvironment: pulumi.Output<Record<string, string>>;
    health: pulumi.Output<NodeHealth[]>;
    ioredisOptions: typeof IOREDIS_RECOMMENDED_OPTIONS;
    /** The exporters to scrape, a prometheus.yml fragment, the alert rules and an Alertmanager route (docs/monitoring.md). */
    monitoring: pulumi.Output<MonitoringOutputs>;
    /** Where the platform's own Prometheus for the deployment answers (the lab's); none on a cloud. */
    prometheusUrl?: pulumi.Output<string>;
}

/** `parent`: the component the three are children of; none for the stack program (its URNs stay as they are). */
export function buildDeployment(name: string, settings: StackSettings, platform: Platform, secrets: DeploymentSecretInputs, parent?: pulumi.Resource): Deployment {
    const opts = parent ? { parent } : undefined;
    const secret = (value: pulumi.Input<string> | undefined) => (value === undefined ? undefined : pulumi.secret(value));
    const redisPassword = pulumi.secret(secrets.redisPassword);
    const sentinelPassword = secret(secrets.sentinelPassword);

    const firewall = new FirewallRules(name, {
        platform,
        appCidrs: settings.appCidrs,
        adminCidrs: settings.adminCidrs,
        monitoringCidrs: settings.monitoringCidrs,
        redisPort: settings.redisPort,
        sentinelPort: settings.sentinelPort,
        allowWorldAccess: settings.allowWorldAccess,
    }, opts);

    const sshAccess: HostAccessArgs = {
        user: settings.sshUser,
        via: settings.sshVia,
        privateKey: secret(secrets.sshPrivateKey),
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
        previousRedisPassword: secret(secrets.previousRedisPassword),
        redis: {
            port: settings.redisPort,
            persistence: settings.persistence,
            maxmemory: settings.maxmemory,
            maxmemoryPolicy: settings.maxmemoryPolicy,
            minReplicasToWrite: settings.minReplicasToWrite,
            minReplicasMaxLag: settings.minReplicasMaxLag,
            replDisklessSyncDelay: settings.replDisklessSyncDelay,
            appScripting: settings.appScripting,
            legacyDefaultUser: settings.legacyDefaultUser,
        },
        sentinel: {
            count: settings.sentinelCount,
            placement: settings.sentinelPlacement,
            quorum: settings.quorum,
            port: settings.sentinelPort,
            authentication: settings.sentinelAuth,
            password: settings.sentinelAuth ? sentinelPassword : undefined,
            previousPassword: secret(secrets.previousSentinelPassword),
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
        secretsDelivery: settings.secretsDelivery,
    }, opts);

    const quorum = new SentinelQuorum(name, {
        replicaSet,
        instanceType: settings.sentinelInstanceType,
        checks: { enabled: settings.checks, ...sshAccess, maxLagSeconds: settings.minReplicasMaxLag },
    }, opts);

    const monitoring = quorum.nodes.apply((nodes) => renderMonitoring({
        deployment: name,
        masterName: settings.masterName,
        quorum: replicaSet.plan.quorum,
        replicaCount: replicaSet.plan.replicas.length,
        maxLagSeconds: settings.minReplicasMaxLag,
        hosts: nodes.map((n) => ({ name: n.name, zone: n.zone, address: n.privateAddress, redis: n.initialRole !== "sentinel", sentinel: n.sentinel })),
    }));
    // After the checks: it watches a deployment that has proved healthy.
    const prometheus = platform.createPrometheus?.(name, replicaSet.network, monitoring, { ...opts, dependsOn: [quorum] });

    return {
        firewall,
        replicaSet,
        quorum,
        sentinelEndpoints: quorum.endpoints,
        clients: quorum.endpoints.apply((sentinels) => renderClientSnippets({ masterName: settings.masterName, sentinels, sentinelAuth: settings.sentinelAuth, minReplicasToWrite: settings.minReplicasToWrite, sentinelTimings: settings })),
        clientEnvironment: pulumi.secret(pulumi.all([redisPassword, sentinelPassword ?? ""]).apply(([r, s]) => clientEnvironmentOf(r, settings.sentinelAuth ? s : ""))),
        health: quorum.checkReports.apply((reports) =>
            reports.map((r) => ({ ok: r.ok, agreedMaster: r.agreedMaster ?? null, replicasOnline: r.replicas.filter((x) => x.state === "online").length, failures: r.failures })),
        ),
        ioredisOptions: IOREDIS_RECOMMENDED_OPTIONS,
        monitoring,
        prometheusUrl: prometheus?.url,
    };
}
