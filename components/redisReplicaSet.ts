import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderHandoffScript } from "../cloud-init/handoffScript";
import { renderHostFiles } from "../cloud-init/hostFiles";
import { hostSecrets, renderSecretDeliveryScript } from "../cloud-init/secretDelivery";
import type { DeploymentConfig } from "./core/model";
import { ConfigValidationError, SettingProblem, formatProblem } from "./core/errors";
import { targetsFor } from "./core/firewallPolicy";
import { DeploymentGuard } from "./guard";
import type { ZoneKind } from "./core/regions";
import type { MaxmemoryPolicy, Persistence, SentinelPlacement } from "./core/model";
import { passwordProblems } from "./core/passwordPolicy";
import { GUARD_SETTING_NAMES, ReplicaSetPlan, planReplicaSet } from "./core/replicaSetPlan";
import { componentNames } from "./core/settingNames";
import type { HostPlan, TopologyPlan } from "./core/topology";
import type { FirewallRules } from "./firewallRules";
import { HostAccessArgs, commandTimeouts, connectionTo, rootShell } from "./hostAccess";
import type { Platform, PlatformHost, PlatformNetwork } from "./platforms/platform";
import { defaultOf } from "./core/settingsSchema";

export interface SentinelOptions {
    /**
     * Number of Sentinels; odd and at least 3. Default 3. On a running deployment with colocated
     * Sentinels it changes only together with replicaCount, so each Sentinel comes or goes with its own
     * data node (docs/operations.md, "More or fewer Sentinels"); with dedicated ones it is fixed.
     */
    count?: number;
    /** colocated: one beside each Redis node; dedicated: VMs of their own (created by SentinelQuorum). Default "colocated". */
    placement?: SentinelPlacement;
    /** Sentinels that must agree the master is down. Default: a majority of `count`. */
    quorum?: number;
    /** Sentinel port. Default 26379. */
    port?: number;
    /**
     * Sentinels require `password`. false runs them without auth, for clients that cannot
     * authenticate to Sentinels (Predis 1.1); only the firewall then guards them. Default true.
     */
    authentication?: boolean;
    /** Password of the Sentinels' admin user; apps get a client password derived from it (components/core/aclUsers.ts). Required unless `authentication` is false; kept secret. */
    password?: pulumi.Input<string>;
    /**
     * The Sentinel password being rotated out: while set, every Sentinel accepts it beside `password`
     * (the settings rollout adds the new one and moves the Sentinels' logins to each other to it);
     * once unset, the next rollout retires it. Default: none (only `password` is accepted).
     */
    previousPassword?: pulumi.Input<string>;
    /** Silence before a node is considered down. Default 1500 (chosen from the failover study, docs/failover.md). */
    downAfterMilliseconds?: number;
    /** Sentinel failover-timeout. A split vote costs twice this. Default 10000. */
    failoverTimeoutMilliseconds?: number;
    /** Replicas resynchronising at once after a failover. Default 1. */
    parallelSyncs?: number;
}

export interface RedisOptions {
    /** Redis port. Default 6379. */
    port?: number;
    /** Persistence on every node. Default "aof+rdb". */
    persistence?: Persistence;
    /** maxmemory (e.g. "3gb"); "0" is unlimited. Default "0". */
    maxmemory?: string;
    /** Eviction policy. Default "noeviction". */
    maxmemoryPolicy?: MaxmemoryPolicy;
    /** The master refuses writes with fewer connected replicas. Default 1. */
    minReplicasToWrite?: number;
    /** Seconds of silence after which a replica stops counting. Default 3 (chosen from the partition drills, docs/failover.md). */
    minReplicasMaxLag?: number;
    /**
     * Seconds a master waits for more replicas before a full sync (repl-diskless-sync-delay). Default 0:
     * a replica that must resync right after a switchover is the one min-replicas-to-write waits for.
     */
    replDisklessSyncDelay?: number;
    /**
     * The app user may run Lua scripts and functions (EVAL, EVALSHA, FCALL, SCRIPT, FUNCTION). Default
     * true: ioredis's defineCommand and the WordPress plugin's selective flush use them. Rolled out to
     * running nodes by ACL SETUSER.
     */
    appScripting?: boolean;
    /**
     * Keep Redis's default user on, with the stack's password, for apps that still log in without a
     * user name. Default false: default is off on every node (a running deployment's next up turns it
     * off, and refuses while a node shows connections running commands as default). Rolled out by
     * ACL SETUSER default, after the credentials steps.
     */
    legacyDefaultUser?: boolean;
}

export interface RedisReplicaSetArgs {
    /** The cloud adapter (OvhPlatform, DigitalOceanPlatform). Required. */
    platform: Platform;
    /** Firewall the hosts attach to. Required. */
    firewall: FirewallRules;
    /** Zones (ovh) or datacenters (digitalocean) to spread over; the master goes in the first. Required. */
    zones: string[];
    /** What a zone is, which decides whether a one-zone plan is an error or a warning. Default "availability-zone". */
    zoneKind?: ZoneKind;
    /** Replicas of the master. Default 2. */
    replicaCount?: number;
    /** Name of the master for Sentinel and clients. Default "redis-ha". */
    masterName?: string;
    /** Redis password: the default user's (requirepass), the operators'; the app, Sentinel and replication users' passwords are derived from it. Required; kept secret. */
    redisPassword: pulumi.Input<string>;
    /**
     * The Redis password being rotated out: while set, every node accepts it beside `redisPassword`
     * (the settings rollout adds the new one, moves masterauth to it and the Sentinels' user to the password derived from it);
     * once unset, the next rollout retires it. Default: none (only `redisPassword` is accepted).
     */
    previousRedisPassword?: pulumi.Input<string>;
    /** Redis tuning; see RedisOptions for defaults. */
    redis?: RedisOptions;
    /** Sentinel topology and timing. Required (for the password). */
    sentinel: SentinelOptions;
    /** Flavor or droplet size of the Redis nodes. Required. */
    instanceType: string;
    /** Debian 12 image name or slug. Required. */
    image: string;
    /** OpenSSH public keys for the login user. Required (at least one) unless the platform provides a login key (the lab); refused at preview when missing. */
    sshPublicKeys?: string[];
    /** Private network block. Default "10.42.0.0/24". */
    privateNetworkCidr?: string;
    /**
     * SSH access to the hosts. With it, on a platform that keeps a host's address through a
     * replacement (ovh, the lab), every host gets a handoff (cloud-init/handoffScript.ts): a changed
     * `image` or `instanceType`, or `pulumi up --replace` of a host, then replaces the hosts one at a
     * time, replicas first and the plan's master last, each after the one before has rejoined in
     * sync, a master only after a planned switchover. Default: none (a new image or size is refused).
     */
    access?: HostAccessArgs;
    /**
     * How the hosts get their passwords. "ssh": the user-data carries none (the cloud keeps it and shows
     * it through its API; the metadata service serves it to any process on the VM); each host's files
     * wait with tokens where the passwords go until a delivery step (`<host>-secrets`, a remote.Command
     * over `access`, right after the host is created) puts them in place and runs first boot.
     * "user-data": they travel in the user-data. Applies to hosts created from then on. Default "ssh"
     * with `access`, "user-data" without (with a warning); "ssh" without `access` is refused.
     */
    secretsDelivery?: "ssh" | "user-data";
}

export interface NodeRow {
    name: string;
    zone: string;
    /** Role at creation; after a failover, ask Sentinel (the stack output of the checks shows the current master). */
    initialRole: "master" | "replica" | "sentinel";
    sentinel: boolean;
    privateAddress: string;
}

/** Settings SentinelQuorum needs from the replica set it watches. */
export interface SentinelContext {
    config: DeploymentConfig;
    redisPassword: pulumi.Output<string>;
    /** "" when no rotation is under way. */
    previousRedisPassword: pulumi.Output<string>;
    sentinelPassword: pulumi.Output<string>;
    /** "" when no Sentinel password rotation is under way. */
    previousSentinelPassword: pulumi.Output<string>;
    masterAddress: pulumi.Output<string>;
}

/**
 * The Redis data nodes: one master and its replicas, spread over zones, each with persistence,
 * auth and (in colocated placement) a Sentinel beside it. The VMs are created from a plan and a
 * rendered user-data that is applied once: later changes never replace a running node.
 */
export class RedisReplicaSet extends pulumi.ComponentResource {
    readonly plan: TopologyPlan;
    readonly platform: Platform;
    readonly network: PlatformNetwork;
    readonly firewall: FirewallRules;
    readonly hosts: PlatformHost[];
    /** The master at creation time. */
    readonly initialMasterAddress: pulumi.Output<string>;
    readonly nodes: pulumi.Output<NodeRow[]>;
    readonly sentinelContext: SentinelContext;
    readonly image: string;
    readonly instanceType: string;
    /** Refuses, at preview, changes a running deployment cannot take (ports, master name, network, zones...). */
    readonly guard: DeploymentGuard;
    /** One handoff command per host, in replacement order; empty without rolling replacement. */
    readonly handoffs: pulumi.Resource[] = [];
    /** One secret delivery per host (secretsDelivery ssh): what runs on a host goes after it. */
    readonly deliveries: pulumi.Resource[] = [];
    /** SSH to the hosts, for the secret deliveries. */
    private readonly access?: HostAccessArgs;
    /** The same, for handoffs: only where a host keeps its address through a replacement. */
    private readonly handoffAccess?: HostAccessArgs;
    /** The last handoff created: the next host is replaced only after it (one node at a time). */
    private chainTail?: pulumi.Resource;
    /** Data nodes in the order they are created and replaced. */
    private readonly replacementOrder: HostPlan[] = [];

    constructor(name: string, args: RedisReplicaSetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("redis-ha:index:RedisReplicaSet", name, {}, opts);
        const fail = (message: string): never => {
            throw new pulumi.ResourceError(`RedisReplicaSet ${name}: ${message}`, this);
        };
        const refuse = (problems: SettingProblem[]): void => {
            if (problems.length === 1) fail(formatProblem(problems[0]));
            if (problems.length > 1) fail(`${problems.length} invalid args; nothing was created.\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
        };
        // The same schema, defaults and rules as the stack config, in the args' names.
        const planned = ((): ReplicaSetPlan => {
            try {
                return planReplicaSet(name, args);
            } catch (e) {
                if (e instanceof ConfigValidationError) refuse(e.problems);
                throw e;
            }
        })();
        for (const warning of planned.warnings) pulumi.log.warn(warning, this);
        const { settings, config } = planned;
        this.plan = planned.topology;
        const names = componentNames("RedisReplicaSet");
        const sentinel = args.sentinel;

        this.platform = args.platform;
        this.firewall = args.firewall;
        this.image = args.image;
        this.instanceType = args.instanceType;
        // Secrets are checked once they resolve (at preview, for config secrets), by the stack's password rules.
        const sentinelAuth = settings.sentinelAuth;
        const checkedPasswords = pulumi.secret(pulumi.all([
            args.redisPassword, args.previousRedisPassword, sentinel.password, sentinel.previousPassword,
        ]).apply(([redis, previousRedis, sentinelPw, previousSentinel]) => {
            refuse(passwordProblems({
                redisPassword: redis, previousRedisPassword: previousRedis, sentinelAuth, sentinelPassword: sentinelPw, previousSentinelPassword: previousSentinel,
            }, names));
            return { redis: redis!, previousRedis: previousRedis ?? "", sentinel: sentinelAuth ? sentinelPw! : "", previousSentinel: previousSentinel ?? "" };
        }));
        const redisPassword = pulumi.secret(checkedPasswords.apply((p) => p.redis));
        // "" all the way down means Sentinels without requirepass, or no rotation under way.
        const sentinelPassword = pulumi.secret(checkedPasswords.apply((p) => p.sentinel));
        const previousRedisPassword = pulumi.secret(checkedPasswords.apply((p) => p.previousRedis));
        const previousSentinelPassword = pulumi.secret(checkedPasswords.apply((p) => p.previousSentinel));

        // Before anything else: what a running deployment cannot change is refused here, at preview.
        this.guard = new DeploymentGuard(`${name}-guard`, {
            component: `RedisReplicaSet ${name}`,
            settings: planned.identity,
            settingNames: GUARD_SETTING_NAMES,
        }, { parent: this });

        this.network = args.platform.createNetwork(name, this.plan, { parent: this, dependsOn: [this.guard] });
        // Handoffs need SSH and addresses that survive a replacement (their scripts name every node).
        this.access = args.access;
        if (args.platform.addressing === "static") this.handoffAccess = args.access;
        const dataPlans = this.plan.hosts.filter((h) => h.kind === "redis");
        let master: PlatformHost;
        let replicas: PlatformHost[];
        if (this.handoffAccess) {
            // Created (and so replaced) in chain order: the replicas, then the plan's master, so a
            // rolling replacement hands the master's role over once, at the end.
            this.initialMasterAddress = pulumi.output(dataPlans[0].privateAddress!);
            replicas = dataPlans.slice(1).map((h) => this.createHost(h, this.initialMasterAddress, config, redisPassword, sentinelPassword));
            master = this.createHost(dataPlans[0], this.initialMasterAddress, config, redisPassword, sentinelPassword);
        } else {
            master = this.createHost(dataPlans[0], pulumi.output(dataPlans[0].privateAddress ?? ""), config, redisPassword, sentinelPassword);
            // With cloud-assigned addresses the replicas learn the master's from its VM, so they wait for it.
            this.initialMasterAddress = master.privateAddress;
            replicas = dataPlans.slice(1).map((h) => this.createHost(h, this.initialMasterAddress, config, redisPassword, sentinelPassword));
        }
        this.hosts = [master, ...replicas];
        this.sentinelContext = { config, redisPassword, previousRedisPassword, sentinelPassword, previousSentinelPassword, masterAddress: this.initialMasterAddress };
        this.nodes = nodeRows(dataPlans, this.hosts);
        this.registerOutputs({ nodes: this.nodes, initialMasterAddress: this.initialMasterAddress });
    }

    /** Creates one host of this deployment; SentinelQuorum uses it for dedicated Sentinel VMs. */
    createHost(
        host: HostPlan,
        masterAddress: pulumi.Input<string>,
        config: DeploymentConfig,
        redisPassword: pulumi.Output<string>,
        sentinelPassword: pulumi.Output<string>,
        options: { instanceType?: string; parent?: pulumi.Resource } = {},
    ): PlatformHost {
        const rendered = pulumi.all([masterAddress, redisPassword, sentinelPassword]).apply(([address, rp, sp]) =>
            renderHostFiles(host, address, config, { redisPassword: rp, sentinelPassword: sp }, this.platform.addressDiscovery));
        // A secret either way: with secretsDelivery ssh it holds none, but it stays out of plain outputs.
        const userData = pulumi.secret(rendered.apply((files) => files.userData));
        const created = this.platform.createHost(
            {
                plan: host,
                userData,
                instanceType: options.instanceType ?? this.instanceType,
                image: this.image,
                network: this.network,
                firewall: this.firewall.attachment,
                firewallTargets: targetsFor({ redis: host.kind === "redis", sentinel: host.sentinel }),
            },
            {
                parent: options.parent ?? this,
                dependsOn: [this.guard, ...this.network.readyWhen, ...this.firewall.attachment.readyWhen, ...(this.chainTail ? [this.chainTail] : [])],
                // Fixed addresses and ports belong to one VM at a time; dependents go first (the handoff's leave).
                deleteBeforeReplace: true,
            },
        );
        const delivery = config.secretsDelivery === "ssh" ? this.createDelivery(host, created, rendered.apply((files) => files.awaitingSecrets), redisPassword, sentinelPassword, options.parent ?? this) : undefined;
        if (this.handoffAccess) this.createHandoff(host, created, config, options.parent ?? this, delivery);
        return created;
    }

    /**
     * The host's secret delivery (cloud-init/secretDelivery.ts): right after the VM is created, over
     * SSH, the passwords its user-data withheld go where their tokens are, and first boot runs. Its
     * trigger is the VM's id, so a replacement gets its own; a password rotation changes its stdin, and
     * the rerun finds the host installed (SAME): the rollout and the credentials steps move a running
     * host's passwords.
     */
    private createDelivery(
        host: HostPlan,
        created: PlatformHost,
        awaitingSecrets: pulumi.Output<string[]>,
        redisPassword: pulumi.Output<string>,
        sentinelPassword: pulumi.Output<string>,
        parent: pulumi.Resource,
    ): pulumi.Resource {
        const access = this.access!;
        const delivery = new command.remote.Command(`${host.name}-secrets`, {
            connection: connectionTo(created, access, this.network.loginPrivateKey),
            create: rootShell(access),
            update: rootShell(access),
            stdin: pulumi.secret(pulumi.all([awaitingSecrets, redisPassword, sentinelPassword]).apply(([files, rp, sp]) => renderSecretDeliveryScript({
                hostName: host.name,
                secrets: hostSecrets({ redisPassword: rp, sentinelPassword: sp }),
                files,
                waitForCloudInit: this.platform.bootsWithCloudInit,
                timeoutSeconds: access.timeoutSeconds ?? defaultOf("checkTimeoutSeconds"),
            }))),
            triggers: [(created.resource as pulumi.CustomResource).id],
            addPreviousOutputInEnv: false,
        }, { parent, dependsOn: [created.resource], customTimeouts: commandTimeouts(access) });
        this.deliveries.push(delivery);
        return delivery;
    }

    /**
     * The host's handoff: a remote.Command on the host itself whose delete hands the node off before
     * its VM goes and whose create brings the new VM in (cloud-init/handoffScript.ts). Its trigger is
     * the VM's id, so it is replaced with the VM: the engine deletes it first (delete-before-replace),
     * and the next host in the chain waits for its create. Not run by `pulumi destroy`: it is deleted
     * with the guard, so tearing a deployment down never hands over between doomed nodes.
     */
    private createHandoff(host: HostPlan, created: PlatformHost, config: DeploymentConfig, parent: pulumi.Resource, delivery?: pulumi.Resource): void {
        const access = this.handoffAccess!;
        const dataNodes = this.plan.hosts.filter((h) => h.kind === "redis").map((h) => `${h.privateAddress}:${config.redisPort}`);
        // The data nodes earlier in the chain: a handover here prefers them (they are not replaced again).
        const replacedBefore = this.replacementOrder.map((h) => `${h.privateAddress}:${config.redisPort}`);
        if (host.kind === "redis") this.replacementOrder.push(host);
        const sentinels = this.plan.sentinels.map((h) => `${h.privateAddress}:${config.sentinelPort}`);
        const handoff = new command.remote.Command(`${host.name}-handoff`, {
            connection: connectionTo(created, access, this.network.loginPrivateKey),
            create: rootShell(access, "join"),
            delete: rootShell(access, "leave"),
            stdin: renderHandoffScript({
                hostName: host.name,
                masterName: config.masterName,
                dataNode: host.kind === "redis" ? `${host.privateAddress}:${config.redisPort}` : undefined,
                sentinel: host.sentinel ? `${host.privateAddress}:${config.sentinelPort}` : undefined,
                dataNodes,
                sentinels,
                replacedBefore,
                timeoutSeconds: access.timeoutSeconds ?? defaultOf("checkTimeoutSeconds"),
                waitForCloudInit: this.platform.bootsWithCloudInit,
            }),
            triggers: [(created.resource as pulumi.CustomResource).id],
            // Its delete needs nothing from its create; sshd would refuse the variables anyway.
            addPreviousOutputInEnv: false,
        }, {
            parent,
            // After the delivery: a host without its passwords has nothing running to join.
            dependsOn: [created.resource, ...(delivery ? [delivery] : [])],
            deletedWith: this.guard,
            // Its create and delete are its whole job: a later change of the node list (more replicas)
            // is no reason to run either, and the leave that runs in the end is the one its join knew.
            ignoreChanges: ["stdin"],
            customTimeouts: commandTimeouts(access),
        });
        this.handoffs.push(handoff);
        this.chainTail = handoff;
    }
}

export function nodeRows(plans: HostPlan[], hosts: PlatformHost[]): pulumi.Output<NodeRow[]> {
    return pulumi.all(hosts.map((h) => h.privateAddress)).apply((addresses): NodeRow[] =>
        plans.map((p, i) => ({
            name: p.name,
            zone: p.zone,
            initialRole: p.redisRole ?? "sentinel",
            sentinel: p.sentinel,
            privateAddress: addresses[i],
        })),
    );
}
