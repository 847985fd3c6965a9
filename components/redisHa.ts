/**
 * The RedisHa component: a whole deployment (firewall, replica set, Sentinel quorum and the checks)
 * from args that a Pulumi schema can carry, so Pulumi YAML and the other languages can declare one
 * (plugin/ serves it as the component package redis-ha). Its args are the stack settings, checked
 * by the same rules in the args' own names; it builds exactly what the stack program builds.
 *
 * This module exports only RedisHa and its arg and output types: the component provider hosts every
 * ComponentResource a plugin's entry module exports, and the other three cannot be carried by a
 * schema (their args hold a Platform and each other).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ClientSnippets } from "./core/clientConfig";
import { ConfigValidationError, formatProblem } from "./core/errors";
import { SETTINGS_SCHEMA } from "./core/settingsSchema";
import { redisHaArgPath, redisHaNames } from "./core/settingNames";
import { valueAt } from "./core/settingRules";
import { validateStackConfig } from "./core/settings";
import { buildDeployment } from "./deployment";
import { platformForCloud } from "./platforms/forCloud";
import type { RedisHaArgs } from "./redisHaArgs";

export type { RedisHaArgs, RedisHaLabArgs, RedisHaOvhArgs } from "./redisHaArgs";
export { Cloud, MaxmemoryPolicy, Persistence, SentinelPlacement, SshVia } from "./redisHaArgs";

/** One planned node. */
export interface RedisHaNode {
    name: string;
    zone: string;
    /** master, replica or sentinel: the role at creation (after a failover, `health` names the master). */
    initialRole: string;
    /** Whether a Sentinel runs on it. */
    sentinel: boolean;
    privateAddress: string;
}

/** What the post-deploy check found on one node. */
export interface RedisHaHealth {
    ok: boolean;
    /** "address:port" that every Sentinel names as master; absent when they do not agree. */
    agreedMaster?: string;
    replicasOnline: number;
    failures: string[];
}

/** One exporter to scrape, with the labels the alert rules select on. */
export interface RedisHaScrapeTarget {
    /** "address:port" of the exporter. */
    target: string;
    deployment: string;
    host: string;
    zone: string;
    /** redis or sentinel. */
    service: string;
}

/** Everything a Prometheus needs to watch the deployment (docs/monitoring.md). */
export interface RedisHaMonitoring {
    targets: RedisHaScrapeTarget[];
    /** A scrape_configs entry for prometheus.yml. */
    prometheusScrapeConfig: string;
    /** A rules file for Prometheus's rule_files. */
    alertRules: string;
    /** An Alertmanager route and receivers to adapt. */
    alertmanagerRoute: string;
    /** A Grafana dashboard (JSON) to import. */
    grafanaDashboard: string;
}

export class RedisHa extends pulumi.ComponentResource {
    /** The Sentinels' "address:port", what every client connects to. */
    public readonly sentinelEndpoints: pulumi.Output<string[]>;
    /** The name Sentinel and clients use for the master. */
    public readonly masterName: pulumi.Output<string>;
    /** Every planned node. */
    public readonly nodes: pulumi.Output<RedisHaNode[]>;
    /** What the post-deploy checks found, one entry per checked node (`pulumi up` fails when one is not ok). */
    public readonly health: pulumi.Output<RedisHaHealth[]>;
    /** Connection code for phpredis, Predis, ioredis and WordPress, reading their passwords from clientEnvironment. */
    public readonly clients: pulumi.Output<ClientSnippets>;
    /** REDIS_PASSWORD (and REDIS_SENTINEL_PASSWORD) for the clients; a secret. */
    public readonly clientEnvironment: pulumi.Output<Record<string, string>>;
    /** The exporters to scrape, a prometheus.yml fragment, the alert rules and an Alertmanager route. */
    public readonly monitoring: pulumi.Output<RedisHaMonitoring>;

    constructor(name: string, args: RedisHaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("redis-ha:index:RedisHa", name, {}, opts);
        let validated: ReturnType<typeof validateStackConfig>;
        try {
            validated = validateStackConfig(rawSettingsOf(args), { names: redisHaNames(), deferPasswords: true });
        } catch (e) {
            if (!(e instanceof ConfigValidationError)) throw e;
            const lines = e.problems.map(formatProblem);
            throw new pulumi.ResourceError(`RedisHa ${name}: ${lines.length === 1 ? lines[0] : `${lines.length} invalid args; nothing was created.\n${lines.map((l) => `  - ${l}`).join("\n")}`}`, this);
        }
        const { settings, warnings } = validated;
        for (const warning of warnings) pulumi.log.warn(warning, this);
        const labId = args.lab?.id ?? (name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+/, "").slice(0, 12) || "redis-ha");
        const deployment = buildDeployment(name, settings, platformForCloud(settings, labId), {
            redisPassword: args.redisPassword,
            sentinelPassword: args.sentinelPassword,
            previousRedisPassword: args.previousRedisPassword,
            previousSentinelPassword: args.previousSentinelPassword,
            sshPrivateKey: args.sshPrivateKey,
        }, this);
        this.sentinelEndpoints = deployment.sentinelEndpoints;
        this.masterName = pulumi.output(settings.masterName);
        this.nodes = deployment.quorum.nodes;
        this.health = deployment.health.apply((rows) => rows.map(({ agreedMaster, ...rest }) => (agreedMaster === null ? rest : { ...rest, agreedMaster })));
        this.clients = deployment.clients;
        this.clientEnvironment = deployment.clientEnvironment;
        this.monitoring = deployment.monitoring.apply(({ targets, ...files }) => ({ ...files, targets: targets.map((t) => ({ target: t.target, ...t.labels })) }));
        this.registerOutputs({
            sentinelEndpoints: this.sentinelEndpoints, masterName: this.masterName, nodes: this.nodes,
            health: this.health, clients: this.clients, clientEnvironment: this.clientEnvironment, monitoring: this.monitoring,
        });
    }
}

/** The args as the stack config would hold them (strings; lists as JSON), secrets left out: they are Inputs, checked once resolved. */
function rawSettingsOf(args: RedisHaArgs): Record<string, string> {
    const raw: Record<string, string> = {};
    for (const schema of SETTINGS_SCHEMA) {
        const value = valueAt(args, redisHaArgPath(schema.key));
        if (schema.secret || value === undefined) continue;
        raw[schema.key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return raw;
}
