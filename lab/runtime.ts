/**
 * The lab: the planned topology on this machine, for real. Each planned VM becomes a network
 * namespace on a bridge (itself in a namespace with no route anywhere), with a private mount
 * namespace in which the host's own /etc/redis, /var/lib/redis, /var/log/redis and /run dirs are
 * bind-mounted, so Debian's redis-server, redis-sentinel and an sshd run from exactly the files
 * cloud-init would write on a VM, at exactly the same paths. nftables rules in each namespace come
 * from the same firewall policy as the clouds' security groups, and the checks run over real SSH
 * with the same script and parser as `pulumi up`.
 */
import * as fs from "fs";
import * as path from "path";
import { renderCheckScript } from "../cloud-init/checkScript";
import { renderRolloutScript } from "../cloud-init/rolloutScript";
import { OPERATOR_USER, SENTINEL_ADMIN_USER, appUserSpec } from "../components/core/aclUsers";
import { runtimeSettings } from "../components/core/runtimeSettings";
import { EXPORTER_BINARY } from "../cloud-init/exporters";
import { renderHostFiles } from "../cloud-init/hostFiles";
import { hostSecrets, renderSecretDeliveryScript } from "../cloud-init/secretDelivery";
import { deploymentConfigOf } from "../components/core/model";
import { renderNftables } from "../cloud-init/nftables";
import { CheckOutputError, CheckReport, parseCheckOutput } from "../components/core/checkOutput";
import { FirewallPolicy, buildFirewallPolicy, rulesFor } from "../components/core/firewallPolicy";
import { regionZones } from "../components/core/regions";
import { StackSettings, validateStackConfig } from "../components/core/settings";
import { generatePassword } from "../components/core/tokens";
import { TopologyPlan, planTopology } from "../components/core/topology";
import { readStackConfig } from "../scripts/lib/mockCloud";
import { formatTable } from "../scripts/lib/table";
import { LabHost, LabSpec, ProcessKind, hostUp, networkDown, networkUp, processAlive, readHostState, sshArgv, startService, stopService, writeFileAs } from "../components/platforms/lab/machine";
import { LabNetwork, planLabNetwork } from "../components/platforms/lab/network";
import { commandExists, runAsync } from "../components/platforms/lab/shell";

export { labNamespaces, removeNamespaces } from "../components/platforms/lab/machine";
export type { ProcessKind } from "../components/platforms/lab/machine";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const DEFAULT_STATE_ROOT = path.join(REPO_ROOT, ".state", "lab");

const REQUIRED_COMMANDS = ["ip", "nft", "redis-server", "redis-sentinel", "redis-cli", "/usr/sbin/sshd", "ssh", "ssh-keygen", "setpriv", "nsenter", "unshare", EXPORTER_BINARY];

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailableReason(): string | undefined {
    if (process.getuid?.() !== 0) return "the lab needs root (network namespaces, nftables, bind mounts)";
    const missing = REQUIRED_COMMANDS.filter((c) => !commandExists(c));
    if (missing.length > 0) return `missing ${missing.join(", ")}; run \`npm run setup\``;
    return undefined;
}

export interface LabOptions {
    /** Stack whose Pulumi.<stack>.yaml describes the lab. Default "lab". */
    stack?: string;
    /** Instance id used in every name the lab creates. Default: the stack name. */
    id?: string;
    /** Raw `redis-ha:` settings (without the namespace) that override the stack file. */
    overrides?: Record<string, string>;
    /** Where lab state lives. Default <repo>/.state/lab. */
    stateRoot?: string;
    log?: (line: string) => void;
}

interface LabState {
    spec: LabSpec;
    settings: Omit<StackSettings, "redisPassword" | "sentinelPassword" | "sshPrivateKey">;
    plan: TopologyPlan;
}

interface LabSecrets { redisPassword: string; sentinelPassword: string }

export interface LabCheck {
    ok: boolean;
    reports: Array<{ host: string; report?: CheckReport; error?: string }>;
    /** Every failure line, prefixed by the host whose check saw it. */
    failures: string[];
}

/** The nftables ruleset of one host, from the deployment's firewall policy. */
export function hostNftables(policy: FirewallPolicy, host: LabHost, clusterAddresses: readonly string[]): string {
    return renderNftables({ hostName: host.namespace, rules: rulesFor(policy, { redis: host.plan.kind === "redis", sentinel: host.plan.sentinel }), clusterAddresses });
}

export class Lab {
    private constructor(private state: LabState, private readonly log: (line: string) => void) {}

    get id(): string { return this.state.spec.id; }
    get network(): LabNetwork { return this.state.spec.network; }
    get plan(): TopologyPlan { return this.state.plan; }
    get settings(): LabState["settings"] { return this.state.settings; }
    get dir(): string { return this.state.spec.dir; }
    /** Facts of the user-data that only make sense on a full VM, and why the lab leaves them out. */
    get skipped(): string[] {
        return [...new Set(this.network.hosts.flatMap((h) => readHostState(this.state.spec, h.namespace)?.skipped ?? []))];
    }

    private static stateDir(options: LabOptions): { id: string; dir: string } {
        const id = options.id ?? options.stack ?? "lab";
        if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(id)) throw new Error(`lab id ${JSON.stringify(id)} must be 1-16 lowercase letters, digits or '-'`);
        return { id, dir: path.join(options.stateRoot ?? DEFAULT_STATE_ROOT, id) };
    }

    /** The lab that `up` left running, if any. */
    static open(options: LabOptions = {}): Lab | undefined {
        const { dir } = Lab.stateDir(options);
        const file = path.join(dir, "state.json");
        if (!fs.existsSync(file)) return undefined;
        return new Lab(JSON.parse(fs.readFileSync(file, "utf8")), options.log ?? (() => undefined));
    }

    static async up(options: LabOptions = {}): Promise<Lab> {
        const log = options.log ?? (() => undefined);
        const unavailable = labUnavailableReason();
        if (unavailable) throw new Error(`the lab cannot run here: ${unavailable}`);
        const { id, dir } = Lab.stateDir(options);
        if (fs.existsSync(path.join(dir, "state.json"))) throw new Error(`lab ${id} is already up (state in ${dir}); run \`npm run lab -- down\` first`);
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        fs.chmodSync(dir, 0o700);

        const stack = options.stack ?? "lab";
        const secrets = Lab.secrets(dir);
        const stackConfig = readStackConfig(stack);
        const raw: Record<string, string> = {};
        for (const [key, value] of Object.entries(stackConfig.config)) if (key.startsWith("redis-ha:")) raw[key.slice("redis-ha:".length)] = value;
        // Secrets in a stack file are encrypted and only the Pulumi CLI can read them: the lab uses its own.
        for (const key of stackConfig.placeholders) raw[key.slice("redis-ha:".length)] = secrets[key.slice("redis-ha:".length) as keyof LabSecrets];
        Object.assign(raw, options.overrides ?? {});
        if (raw.sentinelAuth === "false") delete raw.sentinelPassword;
        const { settings, warnings } = validateStackConfig(raw);
        if (settings.cloud !== "lab") throw new Error(`stack ${stack} has redis-ha:cloud = ${settings.cloud}; the lab runs stacks with cloud lab`);
        for (const warning of warnings) log(`warning: ${warning}`);

        const namePrefix = `rha-${id}`;
        const plan = planTopology({
            namePrefix,
            zones: settings.zones,
            zoneKind: regionZones("lab", settings.region).zoneKind,
            replicaCount: settings.replicaCount,
            sentinelCount: settings.sentinelCount,
            sentinelPlacement: settings.sentinelPlacement,
            quorum: settings.quorum,
            addressing: "static",
            privateNetworkCidr: settings.privateNetworkCidr,
        });
        const spec: LabSpec = {
            id,
            dir,
            namePrefix,
            network: planLabNetwork(plan, namePrefix, settings),
            redisPort: settings.redisPort,
            sentinelPort: settings.sentinelPort,
        };
        const { redisPassword: _r, sentinelPassword: _s, sshPrivateKey: _k, ...publicSettings } = settings;
        const lab = new Lab({ spec, settings: publicSettings, plan }, log);
        writeFileAs(path.join(dir, "state.json"), JSON.stringify(lab.state, null, 2), 0o600);
        try {
            await lab.build({ redisPassword: settings.redisPassword, sentinelPassword: settings.sentinelPassword });
        } catch (e) {
            log(`lab up failed, cleaning up: ${e instanceof Error ? e.message : e}`);
            await lab.down();
            throw e;
        }
        return lab;
    }

    /** Passwords for this lab: generated once, kept root-only beside its state. */
    private static secrets(dir: string): LabSecrets {
        const file = path.join(dir, "secrets.json");
        if (!fs.existsSync(file)) writeFileAs(file, JSON.stringify({ redisPassword: generatePassword(), sentinelPassword: generatePassword() }), 0o600);
        return JSON.parse(fs.readFileSync(file, "utf8"));
    }

    /** The lab's passwords, for tests and for operators (root only); sentinelPassword is "" when the Sentinels run without auth. */
    get secrets(): LabSecrets {
        const secrets = Lab.secrets(this.dir);
        return this.state.settings.sentinelAuth === false ? { ...secrets, sentinelPassword: "" } : secrets;
    }

    private async build(secrets: LabSecrets): Promise<void> {
        const { plan, settings, spec } = this.state;
        const config = deploymentConfigOf(settings, plan);
        const policy = buildFirewallPolicy({
            redisPort: settings.redisPort,
            sentinelPort: settings.sentinelPort,
            appCidrs: settings.appCidrs,
            adminCidrs: settings.adminCidrs,
            monitoringCidrs: settings.monitoringCidrs,
            allowWorldAccess: settings.allowWorldAccess,
        });
        networkUp(spec);
        const clusterAddresses = spec.network.hosts.map((h) => h.address);
        for (const host of spec.network.hosts) {
            // The very user-data a VM would boot with.
            const files = renderHostFiles(host.plan, plan.master.privateAddress!, config, secrets);
            await hostUp(spec, host, files.userData, hostNftables(policy, host, clusterAddresses));
            // As `pulumi up` does right after creating the host: its passwords, over SSH, then first boot.
            if (files.awaitingSecrets.length > 0) await this.deliverSecrets(host.namespace, files.awaitingSecrets, settings.checkTimeoutSeconds);
        }
        // As `pulumi up` does: the settings rollout (which gives the Sentinels their user), then the checks.
        this.log(`lab ${this.id}: ${spec.network.hosts.length} hosts up; the settings rollout, then the checks`);
        await this.rollout(settings.checkTimeoutSeconds);
        const check = await this.check(settings.checkTimeoutSeconds);
        if (!check.ok) throw new Error(`the lab came up but its checks fail:\n  - ${check.failures.join("\n  - ")}`);
    }

    private host(name: string): LabHost {
        const host = this.network.hosts.find((h) => h.namespace === name);
        if (!host) throw new Error(`no lab host ${name}; hosts: ${this.network.hosts.map((h) => h.namespace).join(", ")}`);
        return host;
    }

    /** Starts one of a host's services again (after stop). */
    start(host: string, kind: ProcessKind): Promise<void> {
        return startService(this.state.spec, this.host(host), kind);
    }

    /** Stops a service: SIGKILL by default (a crash), SIGTERM for a clean stop. */
    stop(host: string, kind: ProcessKind, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
        return stopService(this.state.spec, this.host(host).namespace, kind, signal);
    }

    isRunning(host: string, kind: ProcessKind): boolean {
        return processAlive(readHostState(this.state.spec, this.host(host).namespace)?.processes[kind]);
    }

    /** Runs a command in a namespace of the lab (app, admin, outsider or a host's network namespace). */
    exec(namespace: string, argv: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
        return runAsync(["ip", "netns", "exec", namespace, ...argv], options);
    }

    /** redis-cli from a lab namespace, authenticated through the environment (never argv), as `user` when given. */
    redisCli(from: string, address: string, port: number, args: string[], password?: string, user?: string) {
        const env = { ...process.env };
        delete env.REDISCLI_AUTH;
        if (password) env.REDISCLI_AUTH = password;
        return this.exec(from, ["timeout", "5", "redis-cli", "--no-auth-warning", ...(user ? ["--user", user] : []), "-h", address, "-p", String(port), "--raw", ...args], { env, timeoutMs: 10000 });
    }

    /** redis-cli towards a data node from a lab namespace as its operators do: as the operator user with the stack's Redis password (default is off). */
    operatorCli(from: string, address: string, args: string[]) {
        return this.redisCli(from, address, this.settings.redisPort, args, this.secrets.redisPassword, OPERATOR_USER);
    }

    /**
     * redis-cli towards a Sentinel from a lab namespace as its operators do: as the admin user with the
     * stack's Sentinel password (none when the Sentinels run without auth).
     */
    sentinelAdminCli(from: string, address: string, args: string[]) {
        const password = this.secrets.sentinelPassword;
        return this.redisCli(from, address, this.settings.sentinelPort, args, password, password ? SENTINEL_ADMIN_USER : undefined);
    }

    /** SSH from the admin namespace, as an operator or `pulumi up` would. */
    ssh(host: string, command: string, input?: string, timeoutMs = 30000) {
        return this.exec(this.network.admin.namespace, [...sshArgv(this.state.spec, this.settings.sshUser, this.host(host).address), command], { input, timeoutMs });
    }

    /** The secret delivery as RedisReplicaSet runs it (secretsDelivery ssh): rendered the same way, over SSH. */
    async deliverSecrets(host: string, files: readonly string[], timeoutSeconds = 60): Promise<string> {
        const script = renderSecretDeliveryScript({
            hostName: host, secrets: hostSecrets(this.secrets), files, waitForCloudInit: false, timeoutSeconds,
        });
        const result = await this.ssh(host, "bash -s", script, (timeoutSeconds + 60) * 1000);
        if (result.status !== 0 || !/^RESULT ok$/m.test(result.stdout)) throw new Error(`the secret delivery failed on ${host}:\n${result.stdout}${result.stderr}`);
        return result.stdout;
    }

    /**
     * The settings rollout as SentinelQuorum runs it: rendered from the stack's settings and passwords,
     * on the first Sentinel host, over SSH. Returns its output; throws unless it ends RESULT ok.
     */
    async rollout(timeoutSeconds = 60): Promise<string> {
        const { plan, settings } = this.state;
        const config = deploymentConfigOf(settings, plan);
        const { redisPassword, sentinelPassword } = this.secrets;
        const network = this.network;
        const host = plan.sentinels[0].name;
        const script = renderRolloutScript({
            hostName: host,
            masterName: settings.masterName,
            dataNodes: network.hosts.filter((h) => h.plan.redisRole).map((h) => `${h.address}:${settings.redisPort}`),
            sentinels: network.hosts.filter((h) => h.plan.sentinel).map((h) => `${h.address}:${settings.sentinelPort}`),
            settings: runtimeSettings(config),
            mode: "apply",
            timeoutSeconds,
            passwords: { redis: redisPassword, previousRedis: "", sentinel: sentinelPassword },
            appUserSpec: appUserSpec(redisPassword, "", config.appScripting),
            legacyDefaultUser: config.legacyDefaultUser,
        });
        const result = await this.ssh(host, "bash -s", script, (timeoutSeconds + 60) * 1000);
        if (!/^RESULT ok /m.test(result.stdout)) throw new Error(`the settings rollout failed on ${host}:\n${result.stdout}${result.stderr}`);
        return result.stdout;
    }

    /**
     * The post-deploy check on every Sentinel host, over SSH, with the script and parser the
     * SentinelQuorum component uses. The first host waits up to `timeoutSeconds` for health;
     * the others then get a short bound, since they check the same quorum.
     */
    async check(timeoutSeconds = 10): Promise<LabCheck> {
        const { plan, settings } = this.state;
        const network = this.network;
        const sentinels = network.hosts.filter((h) => h.plan.sentinel).map((h) => `${h.address}:${settings.sentinelPort}`);
        const dataNodes = network.hosts.filter((h) => h.plan.redisRole).map((h) => `${h.address}:${settings.redisPort}`);
        const reports: LabCheck["reports"] = [];
        for (const [i, host] of plan.sentinels.entries()) {
            const budget = i === 0 ? timeoutSeconds : Math.min(timeoutSeconds, 10);
            const script = renderCheckScript({
                hostName: host.name,
                masterName: settings.masterName,
                sentinels,
                dataNodes,
                expectedReplicas: plan.replicas.length,
                maxLagSeconds: settings.minReplicasMaxLag,
                timeoutSeconds: budget,
                waitForCloudInit: false,
                intervalSeconds: 1,
                hardening: { legacyDefaultUser: settings.legacyDefaultUser },
            });
            const result = await this.ssh(host.name, "bash -s", script, (budget + 30) * 1000);
            try {
                reports.push({ host: host.name, report: parseCheckOutput(result.stdout) });
            } catch (e) {
                const why = e instanceof CheckOutputError ? e.message : String(e);
                reports.push({ host: host.name, error: `${why}; ssh said: ${(result.stderr || "nothing").trim()}` });
            }
        }
        const failures = reports.flatMap((r) => (r.error ? [`${r.host}: ${r.error}`] : r.report!.failures.map((f) => `${r.host}: ${f}`)));
        return { ok: reports.every((r) => r.report?.ok), reports, failures };
    }

    /** Host, zone, role now, address, replication state and each Sentinel's view, from a check. */
    table(check: LabCheck): string {
        const { settings } = this.state;
        const network = this.network;
        const first = check.reports.find((r) => r.report)?.report;
        const master = first?.agreedMaster;
        const rows = [["HOST", "ZONE", "ROLE", "ADDRESS", "REPLICATION", "SENTINEL SAYS MASTER IS"]];
        for (const host of network.hosts) {
            const redisAddress = `${host.address}:${settings.redisPort}`;
            const replica = first?.replicas.find((r) => r.replica === redisAddress);
            const role = !host.plan.redisRole ? "sentinel" : redisAddress === master ? "master" : replica ? "replica" : "unknown";
            const replication = role === "master"
                ? `${first?.replicas.filter((r) => r.state === "online").length ?? 0} replicas online`
                : replica ? `${replica.state}, lag ${replica.lag ?? "?"}s` : "-";
            const view = host.plan.sentinel ? first?.sentinels.find((s) => s.sentinel === `${host.address}:${settings.sentinelPort}`)?.master ?? "no answer" : "-";
            rows.push([host.namespace, host.plan.zone, role, host.address, replication, view]);
        }
        return formatTable(rows);
    }

    /** Removes every process, namespace and file the lab made. Safe to run twice. */
    async down(): Promise<void> {
        networkDown(this.state.spec);
    }
}
