import * as command from "@pulumi/command";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { HostAccessArgs, commandTimeouts, connectionTo, rootShell } from "./hostAccess";
import { renderCheckScript, renderHostHardeningScript } from "../cloud-init/checkScript";
import { renderRolloutScript } from "../cloud-init/rolloutScript";
import { APP_USER, EXPORTER_REDIS_USER, OPERATOR_USER, REPLICATION_USER, SENTINEL_ADMIN_USER, SENTINEL_CLIENT_USER, SENTINEL_USER, appUserSpec, sentinelClientPassword } from "./core/aclUsers";
import { exportersOf } from "../cloud-init/exporters";
import { renderHostCredentialsScript } from "../cloud-init/hostCredentials";
import { BOOT_GUARD_PASSWORD_FILE, renderBootGuard, renderBootGuardInstall } from "../cloud-init/bootGuard";
import { describeRuntimeSettings, runtimeSettings } from "./core/runtimeSettings";
import { CheckReport, checkNotRun, parseCheckOutput } from "./core/checkOutput";
import type { PlatformHost } from "./platforms/platform";
import { NodeRow, RedisReplicaSet, nodeRows } from "./redisReplicaSet";
import { formatProblem } from "./core/errors";
import { componentNames } from "./core/settingNames";
import { argValues } from "./core/settingRules";

export interface SentinelChecksArgs {
    /**
     * Run the post-deploy checks over SSH; `pulumi up` fails when they fail. The same SSH access rolls
     * changed runtime settings out to the running nodes; without it (false) a changed setting reaches
     * only nodes created later. Default true.
     */
    enabled?: boolean;
    /** Login user of the image (debian on OVH, root on DigitalOcean). Required when enabled. */
    user: string;
    /** Which address to SSH to: "public", or "private" when pulumi runs inside the network. Default "public". */
    via?: "public" | "private";
    /** Private key for SSH. Default: the key the platform authorised on every host (the lab has one), else the ssh-agent at SSH_AUTH_SOCK. */
    privateKey?: pulumi.Input<string>;
    /** How long to wait for a healthy quorum (first boot installs packages). Default 600. */
    timeoutSeconds?: number;
    /** Replica lag in seconds above which a replica is unhealthy. Default 3 (the minReplicasMaxLag default). */
    maxLagSeconds?: number;
}

export interface SentinelQuorumArgs {
    /** The replica set the Sentinels watch; its plan says where the Sentinels go. Required. */
    replicaSet: RedisReplicaSet;
    /** Flavor or size of dedicated Sentinel VMs. Default: the replica set's instanceType. */
    instanceType?: string;
    /** Post-deploy checks. Default: enabled, with `user` required. */
    checks: SentinelChecksArgs;
}

/**
 * The Sentinels that watch a RedisReplicaSet: creates dedicated Sentinel VMs when the plan asks
 * for them, and proves the quorum after deployment: every Sentinel names the same master,
 * SENTINEL CKQUORUM passes, and the master sees every replica online.
 */
export class SentinelQuorum extends pulumi.ComponentResource {
    /** Sentinel endpoints ("address:port"), for clients. */
    readonly endpoints: pulumi.Output<string[]>;
    /** Dedicated Sentinel VMs (empty in colocated placement). */
    readonly dedicatedHosts: PlatformHost[];
    readonly nodes: pulumi.Output<NodeRow[]>;
    /** One parsed check report per Sentinel host; empty when checks are disabled. */
    readonly checkReports: pulumi.Output<CheckReport[]>;
    /** The check resources (remote.Command on every platform, the lab included), one per Sentinel host. */
    readonly checkCommands: pulumi.Resource[];
    /** The remote.Command that rolls changed runtime settings out to the running nodes; undefined when checks are disabled. */
    readonly settingsRollout?: pulumi.Resource;
    /**
     * One remote.Command per host, after the rollout: keeps the copies of the passwords in files (the
     * operator credentials, the boot guard's, the exporters') the stack's, through a password
     * rotation and onto a host made before them. Empty when checks are disabled.
     */
    readonly hostCredentials: pulumi.Resource[];
    /**
     * The remote.Command that turns Redis's default user off on every node (or, with
     * legacyDefaultUser, on), after the rollout and the credentials steps; undefined when checks are disabled.
     */
    readonly defaultUser?: pulumi.Resource;
    /** One per data node, before the rollout: the host's boot guard brought up to date (cloud-init/bootGuard.ts). Empty when checks are disabled. */
    readonly bootGuards: pulumi.Resource[];
    /**
     * The host half of the check (docs/security.md) on each data node without a Sentinel, where the
     * check itself does not run; a host that fails it fails `pulumi up`. Empty when checks are disabled.
     */
    readonly hardeningCommands: pulumi.Resource[] = [];

    constructor(name: string, args: SentinelQuorumArgs, opts?: pulumi.ComponentResourceOptions) {
        super("redis-ha:index:SentinelQuorum", name, {}, opts);
        const set = args.replicaSet;
        const plan = set.plan;
        const context = set.sentinelContext;
        const checks = args.checks;
        // The stack's settings model, in the args' names.
        const names = componentNames("SentinelQuorum");
        const { values, problems } = argValues("SentinelQuorum", args, names);
        if (values.checks && !checks.user) problems.push({ setting: names.name("sshUser"), value: "(unset)", problem: "is required when checks are enabled", fix: names.set("sshUser", "debian") + " (root on DigitalOcean)" });
        if (problems.length > 0) throw new pulumi.ResourceError(`SentinelQuorum ${name}: ${problems.map(formatProblem).join("\n  - ")}`, this);

        const dedicatedPlans = plan.hosts.filter((h) => h.kind === "sentinel");
        this.dedicatedHosts = dedicatedPlans.map((h) =>
            set.createHost(h, context.masterAddress, context.config, context.redisPassword, context.sentinelPassword, {
                instanceType: args.instanceType,
                parent: this,
            }),
        );
        const allHosts = [...set.hosts, ...this.dedicatedHosts];
        const allPlans = [...plan.hosts.filter((h) => h.kind === "redis"), ...dedicatedPlans];
        const sentinelHosts = allHosts.filter((_, i) => allPlans[i].sentinel);
        this.endpoints = pulumi.all(sentinelHosts.map((h) => h.privateAddress)).apply((addresses) => addresses.map((a) => `${a}:${context.config.sentinelPort}`));
        this.nodes = pulumi.all([set.nodes, nodeRows(dedicatedPlans, this.dedicatedHosts)]).apply(([a, b]) => [...a, ...b]);

        this.checkCommands = [];
        this.hostCredentials = [];
        this.bootGuards = [];
        const checkOutputs: pulumi.Output<string>[] = [];
        if (values.checks) {
            const timeoutSeconds = values.checkTimeoutSeconds!;
            const platform = set.platform;
            const access: HostAccessArgs = { user: checks.user, via: checks.via, privateKey: checks.privateKey, timeoutSeconds };
            const runAs = rootShell(access);
            const connection = (host: PlatformHost) => connectionTo(host, access, set.network.loginPrivateKey);
            const customTimeouts = commandTimeouts(access);

            // Day 2: settings that the running processes can take are rolled out through them, one node
            // at a time (replicas first, the master last, then each Sentinel), never by re-rendering a
            // config file that Sentinel and CONFIG REWRITE own. On day 1 it finds every value in place.
            const settings = runtimeSettings(context.config);
            const settingsLines = describeRuntimeSettings(settings);
            const appUserLine = `app user ${APP_USER}: scripting ${context.config.appScripting ? "allowed" : "refused"}`;
            const sentinelUserLine = `the Sentinels log in to the nodes as user ${SENTINEL_USER}`;
            const replicationUserLine = `the nodes replicate as user ${REPLICATION_USER}, which may only replicate`;
            const operatorUserLine = `the checks and day-2 scripts log in to the nodes as user ${OPERATOR_USER}`;
            const exporterUserLine = `the exporters log in to the nodes as user ${EXPORTER_REDIS_USER}, which may only read INFO`;
            // Says only whether the Sentinels have a password, so it may be shown.
            const sentinelUsersLine = pulumi.unsecret(context.sentinelPassword.apply((p) => (p === ""
                ? "the Sentinels run without auth"
                : `the apps ask the Sentinels as ${SENTINEL_CLIENT_USER}, which may only read; the operators and the Sentinels log in to them as ${SENTINEL_ADMIN_USER}`)));
            // A changed password shows as a changed secret; whether a rotation is under way, in words.
            const passwordHash = (which: string, p: string) => `${which} password ${createHash("sha256").update(`redis-ha:${p}`).digest("hex")}`;
            const sentinelPasswordLine = pulumi.secret(context.sentinelPassword.apply((p) => passwordHash("sentinel", p)));
            const passwordLines = [
                pulumi.secret(context.redisPassword.apply((p) => passwordHash("redis", p))),
                // Says nothing of the password itself, so it may be shown.
                pulumi.unsecret(context.previousRedisPassword.apply((p) => (p ? "redis previous password still accepted (rotation under way)" : "redis previous password retired"))),
                sentinelPasswordLine,
                pulumi.unsecret(context.previousSentinelPassword.apply((p) => (p ? "sentinel previous password still accepted (rotation under way)" : "sentinel previous password retired"))),
            ];
            const dataNodes = pulumi.all(set.hosts.map((h) => h.privateAddress)).apply((addresses) => addresses.map((a) => `${a}:${context.config.redisPort}`));
            // Before the rollout changes what a restart's boot guard relies on, every data node runs
            // today's guard (a host made by an earlier redis-ha has that day's), with every Sentinel's
            // address: first boot's knows them only where the plan fixes the addresses.
            this.bootGuards = allHosts.flatMap((host, i) => (allPlans[i].redisRole ? [new command.remote.Command(
                `${host.name}-boot-guard`,
                {
                    connection: connection(host),
                    create: runAs,
                    update: runAs,
                    stdin: this.endpoints.apply((sentinels) => renderBootGuardInstall({
                        script: renderBootGuard({ hostName: host.name, masterName: context.config.masterName, sentinels, passwordFile: BOOT_GUARD_PASSWORD_FILE }),
                        waitForCloudInit: platform.bootsWithCloudInit,
                    })),
                    triggers: [(host.resource as pulumi.CustomResource).id],
                },
                { parent: this, dependsOn: [...allHosts.map((h) => h.resource), ...set.deliveries, ...set.handoffs], customTimeouts },
            )] : []));
            const rolloutHost = sentinelHosts[0];
            // A replaced VM has a new id: what depends on the hosts runs again, against the new node.
            const hostIds = allHosts.map((h) => (h.resource as pulumi.CustomResource).id);
            const hostsLine = pulumi.interpolate`hosts ${pulumi.all(hostIds).apply((ids) => ids.join(" "))}`;
            // The rollout script for one phase, as the command's stdin: a secret, since it carries the
            // passwords, for a rotation (cloud-init/rolloutScript.ts never prints them). The default
            // user's phase carries neither the settings nor the app user, which it does not touch, so
            // that a changed setting does not run it again.
            const rolloutScript = (phase: "settings" | "default-user") =>
                pulumi.secret(pulumi.all([dataNodes, this.endpoints, context.redisPassword, context.previousRedisPassword, context.sentinelPassword, context.previousSentinelPassword]).apply(([nodes, sentinels, redis, previousRedis, sentinel, previousSentinel]) =>
                    renderRolloutScript({
                        hostName: rolloutHost.name, masterName: context.config.masterName, dataNodes: nodes, sentinels, mode: "apply", timeoutSeconds,
                        settings: phase === "settings" ? settings : [],
                        passwords: { redis, previousRedis, sentinel, previousSentinel },
                        appUserSpec: phase === "settings" ? appUserSpec(redis, previousRedis, context.config.appScripting) : undefined,
                        legacyDefaultUser: context.config.legacyDefaultUser,
                        waitForCloudInit: platform.bootsWithCloudInit,
                        phase,
                    })));
            const rollout = new command.remote.Command(
                `${name}-settings`,
                {
                    connection: connection(rolloutHost),
                    create: runAs,
                    update: runAs,
                    stdin: rolloutScript("settings"),
                    // What `pulumi preview --diff` shows: one line per setting, old and new.
                    // The users' lines after the settings: a deployment made before one had it previews it as an
                    // added line. Then the hosts: a replaced host's Sentinel made with legacyDefaultUser boots
                    // logging in as default, and only the rollout moves it to the Sentinels' user, so a
                    // replacement runs the rollout again. The Sentinels' own users, the replication user, the
                    // operators' and the exporters': each added at the end, a deployment made before it
                    // previews exactly one added line.
                    triggers: [...settingsLines, pulumi.interpolate`data nodes ${dataNodes.apply((n) => n.join(" "))}`, ...passwordLines, appUserLine, sentinelUserLine,
                        hostsLine, sentinelUsersLine, replicationUserLine, operatorUserLine, exporterUserLine],
                },
                // After every host and, in a rolling replacement, every handoff: the nodes are all back in.
                { parent: this, dependsOn: [...allHosts.map((h) => h.resource), ...set.deliveries, ...set.handoffs, ...this.bootGuards], customTimeouts },
            );
            this.settingsRollout = rollout;
            // The checks log in with the host's operator credentials, the boot guard asks the Sentinels
            // with its own copy of their password, and each exporter logs in with its own; a host
            // created with the stack has the ones of that day (one made by an earlier redis-ha has no
            // operator credentials, and gets them here on its next up). Rewritten
            // once the rollout made every node accept the stack's (step 1), so none holds a password
            // that is refused before its retirement.
            this.hostCredentials = allHosts.map((host, i) => new command.remote.Command(
                `${host.name}-credentials`,
                {
                    connection: connection(host),
                    create: runAs,
                    update: runAs,
                    stdin: pulumi.secret(pulumi.all([host.privateAddress, context.redisPassword, context.sentinelPassword]).apply(([address, redis, sentinel]) => renderHostCredentialsScript({
                        operator: { redisPassword: redis, sentinelPassword: sentinel },
                        // The boot guard only asks where the master is: the apps' Sentinel password does.
                        bootGuardSentinelPassword: allPlans[i].redisRole ? (sentinel === "" ? "" : sentinelClientPassword(sentinel)) : undefined,
                        exporters: exportersOf(allPlans[i], context.config, { redis, sentinel }).map((e) => ({ ...e, bindAddress: address })),
                    }))),
                    triggers: [passwordLines[0], sentinelPasswordLine, (host.resource as pulumi.CustomResource).id],
                },
                { parent: this, dependsOn: [rollout], customTimeouts },
            ));
            // Redis's default user, once no login redis-ha makes is on it: after the rollout (the
            // Sentinels, replication and the scripts moved to their users) and every credentials step
            // (the exporters moved). Off, it refuses while apps still log in as default, naming them.
            const defaultUserLine = context.config.legacyDefaultUser
                ? "redis default user on with the stack's password (legacyDefaultUser), for apps without a user name"
                : "redis default user off: every login names its user";
            this.defaultUser = new command.remote.Command(
                `${name}-default-user`,
                {
                    connection: connection(rolloutHost),
                    create: runAs,
                    update: runAs,
                    stdin: rolloutScript("default-user"),
                    // Again when the setting changes or a host is replaced; the checks judge default at every up.
                    triggers: [defaultUserLine, hostsLine],
                },
                { parent: this, dependsOn: [rollout, ...this.hostCredentials], customTimeouts },
            );
            // A read-only verification on a host: it reruns whenever what it verifies changes (hosts,
            // Sentinels, expectations), after every settings rollout, and after a host was replaced.
            const verification = (name: string, host: PlatformHost, script: pulumi.Output<string>) => new command.remote.Command(
                name,
                { connection: connection(host), create: runAs, update: runAs, stdin: script, triggers: [script, ...settingsLines, ...passwordLines, ...hostIds] },
                // After the credentials steps too: a host made by an earlier redis-ha has its operator credentials by then.
                { parent: this, dependsOn: [...allHosts.map((h) => h.resource), rollout, ...this.hostCredentials, ...(this.defaultUser ? [this.defaultUser] : [])], customTimeouts },
            );

            for (const host of sentinelHosts) {
                const remote = verification(`${host.name}-check`, host, pulumi.all([this.endpoints, dataNodes]).apply(([endpoints, nodes]) =>
                    renderCheckScript({
                        hostName: host.name,
                        masterName: context.config.masterName,
                        sentinels: endpoints,
                        expectedReplicas: plan.replicas.length,
                        dataNodes: nodes,
                        maxLagSeconds: values.minReplicasMaxLag!,
                        timeoutSeconds,
                        waitForCloudInit: platform.bootsWithCloudInit,
                        hardening: { legacyDefaultUser: context.config.legacyDefaultUser },
                    })));
                this.checkCommands.push(remote);
                checkOutputs.push(remote.stdout);
            }
            allHosts.forEach((host, i) => {
                if (allPlans[i].sentinel || !allPlans[i].redisRole) return;
                this.hardeningCommands.push(verification(`${host.name}-hardening`, host, pulumi.all([this.endpoints, dataNodes]).apply(([endpoints, nodes]) =>
                    renderHostHardeningScript({ hostName: host.name, sentinels: endpoints, dataNodes: nodes, hardening: { legacyDefaultUser: context.config.legacyDefaultUser } }))));
            });
        }
        // A check that never ran (a plan under Pulumi's mocks, which SSH nowhere) has no stdout: say so, never "ok".
        this.checkReports = pulumi.all(checkOutputs).apply((outputs) => outputs.map((stdout) => (stdout === undefined ? checkNotRun() : parseCheckOutput(stdout))));
        this.registerOutputs({ endpoints: this.endpoints, nodes: this.nodes, checkReports: this.checkReports });
    }
}
