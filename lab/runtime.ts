/**
 * The lab: the planned topology on this machine, for real. Each planned VM becomes a network
 * namespace on a bridge (itself in a namespace with no route anywhere), with a private mount
 * namespace in which the host's own /etc/redis, /var/lib/redis, /var/log/redis and /run dirs are
 * bind-mounted, so Debian's redis-server, redis-sentinel and an sshd run from exactly the files
 * cloud-init would write on a VM, at exactly the same paths. nftables rules in each namespace come
 * from the same firewall policy as the clouds' security groups, and the checks run over real SSH
 * with the same script and parser as `pulumi up`.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { renderCheckScript } from "../cloud-init/checkScript";
import { DEBIAN_PATHS } from "../cloud-init/paths";
import { DeploymentConfig, renderHostFiles } from "../cloud-init/hostFiles";
import { renderNftables } from "../cloud-init/nftables";
import { CheckOutputError, CheckReport, parseCheckOutput } from "../components/core/checkOutput";
import { buildFirewallPolicy, rulesFor } from "../components/core/firewallPolicy";
import { regionZones } from "../components/core/regions";
import { StackSettings, validateStackConfig } from "../components/core/settings";
import { TopologyPlan, planTopology } from "../components/core/topology";
import { readStackConfig } from "../scripts/lib/mockCloud";
import { LabEndpoint, LabNetwork, planLabNetwork } from "./network";
import { commandExists, run, runAsync, sleep } from "./shell";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const DEFAULT_STATE_ROOT = path.join(REPO_ROOT, ".state", "lab");

const REQUIRED_COMMANDS = ["ip", "nft", "redis-server", "redis-sentinel", "redis-cli", "/usr/sbin/sshd", "ssh", "ssh-keygen", "setpriv", "nsenter", "unshare"];

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailableReason(): string | undefined {
    if (process.getuid?.() !== 0) return "the lab needs root (network namespaces, nftables, bind mounts)";
    const missing = REQUIRED_COMMANDS.filter((c) => !commandExists(c));
    if (missing.length > 0) return `missing ${missing.join(", ")}; run \`npm run setup\``;
    return undefined;
}

/** Namespaces of a lab: those it recorded, and any named with its prefix (in case the state was lost). */
export function labNamespaces(namePrefix: string, recorded: readonly string[] = []): string[] {
    const existing = run(["ip", "netns", "list"], { allowFailure: true }).stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
    return existing.filter((n) => recorded.includes(n) || n.startsWith(`${namePrefix}-`));
}

/** Kills whatever runs inside the given namespaces (only the lab starts anything there), then deletes them. */
export function removeNamespaces(namespaces: readonly string[]): void {
    const killed: number[] = [];
    for (const namespace of namespaces) {
        for (const pid of run(["ip", "netns", "pids", namespace], { allowFailure: true }).stdout.split("\n").filter(Boolean).map(Number)) {
            try {
                process.kill(pid, "SIGKILL");
                killed.push(pid);
            } catch {
                // already gone
            }
        }
        run(["ip", "netns", "del", namespace], { allowFailure: true });
    }
    // SIGKILL is asynchronous: return only once they are gone, so "down" means down (bounded: 5 s).
    const until = Date.now() + 5000;
    while (killed.some(processAlive) && Date.now() < until) run(["sleep", "0.05"]);
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

interface HostProcesses {
    holder?: number;
    sshd?: number;
    redis?: number;
    sentinel?: number;
}

interface LabState {
    id: string;
    namePrefix: string;
    dir: string;
    network: LabNetwork;
    namespaces: string[];
    processes: Record<string, HostProcesses>;
    settings: Omit<StackSettings, "redisPassword" | "sentinelPassword" | "sshPrivateKey">;
    plan: TopologyPlan;
    skipped: string[];
}

interface LabSecrets { redisPassword: string; sentinelPassword: string }

export type ProcessKind = "redis" | "sentinel" | "sshd";

export interface LabCheck {
    ok: boolean;
    reports: Array<{ host: string; report?: CheckReport; error?: string }>;
    /** Every failure line, prefixed by the host whose check saw it. */
    failures: string[];
}

function writeFileAs(file: string, content: string, mode: number, owner?: string): void {
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    if (owner) run(["chown", owner, file]);
}

function randomPassword(): string {
    return crypto.randomBytes(24).toString("base64").replace(/[+/=]/g, "x");
}

function processAlive(pid: number | undefined): boolean {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        return !fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
    } catch {
        return false;
    }
}

export class Lab {
    private constructor(private state: LabState, private readonly log: (line: string) => void) {}

    get id(): string { return this.state.id; }
    get network(): LabNetwork { return this.state.network; }
    get plan(): TopologyPlan { return this.state.plan; }
    get settings(): LabState["settings"] { return this.state.settings; }
    /** Facts of the host plan that only make sense on a full VM, and why the lab leaves them out. */
    get skipped(): string[] { return this.state.skipped; }
    get dir(): string { return this.state.dir; }

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
        const network = planLabNetwork(plan, namePrefix, settings);
        const { redisPassword: _r, sentinelPassword: _s, sshPrivateKey: _k, ...publicSettings } = settings;
        const lab = new Lab({ id, namePrefix, dir, network, namespaces: [], processes: {}, settings: publicSettings, plan, skipped: [] }, log);
        lab.save();
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
        if (!fs.existsSync(file)) writeFileAs(file, JSON.stringify({ redisPassword: randomPassword(), sentinelPassword: randomPassword() }), 0o600);
        return JSON.parse(fs.readFileSync(file, "utf8"));
    }

    /** The lab's passwords, for tests and for `npm run lab -- env`. */
    get secrets(): LabSecrets {
        return Lab.secrets(this.state.dir);
    }

    private save(): void {
        writeFileAs(path.join(this.state.dir, "state.json"), JSON.stringify(this.state, null, 2), 0o600);
    }

    private hostDir(host: string): string {
        return path.join(this.state.dir, "hosts", host);
    }

    private async build(secrets: LabSecrets): Promise<void> {
        const { plan, network, settings, dir } = this.state;
        const keyFile = path.join(dir, "id_ed25519");
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `redis-ha lab ${this.id}`, "-f", keyFile]);
        const labKey = fs.readFileSync(`${keyFile}.pub`, "utf8").trim();
        const config: DeploymentConfig = {
            masterName: settings.masterName,
            redisPort: settings.redisPort,
            sentinelPort: settings.sentinelPort,
            quorum: plan.quorum,
            persistence: settings.persistence,
            maxmemory: settings.maxmemory,
            maxmemoryPolicy: settings.maxmemoryPolicy,
            minReplicasToWrite: settings.minReplicasToWrite,
            minReplicasMaxLag: settings.minReplicasMaxLag,
            downAfterMilliseconds: settings.downAfterMilliseconds,
            failoverTimeoutMilliseconds: settings.failoverTimeoutMilliseconds,
            parallelSyncs: settings.parallelSyncs,
            sshPublicKeys: [...settings.sshPublicKeys, labKey],
        };
        for (const dirName of ["/run/redis", "/run/sentinel", "/run/sshd"]) fs.mkdirSync(dirName, { recursive: true });

        // Files first, from the very user-data a VM would boot with.
        for (const host of network.hosts) this.installFiles(host, renderHostFiles(host.plan, plan.master.privateAddress!, config, secrets).userData);

        this.createNetwork();
        const policy = buildFirewallPolicy({
            redisPort: settings.redisPort,
            sentinelPort: settings.sentinelPort,
            appCidrs: settings.appCidrs,
            adminCidrs: settings.adminCidrs,
            allowWorldAccess: settings.allowWorldAccess,
        });
        const clusterAddresses = network.hosts.map((h) => h.address);
        for (const host of network.hosts) {
            const rules = renderNftables({ hostName: host.namespace, rules: rulesFor(policy, { redis: host.plan.kind === "redis", sentinel: host.plan.sentinel }), clusterAddresses });
            const file = path.join(this.hostDir(host.namespace), "nftables.conf");
            writeFileAs(file, rules, 0o600);
            run(["ip", "netns", "exec", host.namespace, "nft", "-f", file]);
        }

        for (const host of network.hosts) {
            await this.startHolder(host);
            await this.start(host.namespace, "sshd");
        }
        for (const host of network.hosts) if (host.plan.redisRole) await this.start(host.namespace, "redis");
        for (const host of network.hosts) if (host.plan.sentinel) await this.start(host.namespace, "sentinel");
        this.log(`lab ${this.id}: ${network.hosts.length} hosts up; waiting for the checks`);
        const check = await this.check(settings.checkTimeoutSeconds);
        if (!check.ok) throw new Error(`the lab came up but its checks fail:\n  - ${check.failures.join("\n  - ")}`);
    }

    /** Does what cloud-init and the first-boot script do on a VM, and records what it leaves out. */
    private installFiles(host: LabEndpoint & { plan: { name: string } }, userData: string): void {
        const document = parse(userData);
        const root = this.hostDir(host.namespace);
        const dirs = { etc: path.join(root, "etc-redis"), lib: path.join(root, "var-lib-redis"), log: path.join(root, "var-log-redis"), runRedis: path.join(root, "run-redis"), runSentinel: path.join(root, "run-sentinel"), ssh: path.join(root, "ssh") };
        for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
        for (const d of [dirs.etc, dirs.lib, dirs.log, dirs.runRedis, dirs.runSentinel]) {
            run(["chown", "redis:redis", d]);
            fs.chmodSync(d, 0o750);
        }
        fs.writeFileSync(path.join(root, "user-data"), userData, { mode: 0o600 });
        const skipped = new Set(this.state.skipped);
        skipped.add(`packages (${document.packages.join(", ")}): already installed on this machine by npm run setup; every namespace runs the same binaries`);
        for (const file of document.write_files as Array<{ path: string; content: string }>) {
            const name = path.basename(file.path);
            if (file.path.startsWith("/etc/redis-ha/staged/")) {
                // The first-boot script's install step: into the host's own /etc/redis, owned by redis.
                writeFileAs(path.join(dirs.etc, name), file.content, 0o640, "redis:redis");
            } else if (file.path.startsWith("/etc/sysctl.d/")) {
                skipped.add(`${file.path}: sysctls are the kernel's, shared by every namespace; setting them would change this machine`);
            } else if (file.path.endsWith("redis-ha-thp.service")) {
                skipped.add(`${file.path}: transparent huge pages are a kernel setting of this machine, not of a namespace`);
            } else if (file.path.endsWith("redis-ha-firstboot")) {
                skipped.add(`${file.path}: the lab does its steps itself (install the staged configs, start the services), with no systemd in a namespace`);
            }
        }
        const keys = [...document.ssh_authorized_keys].join("\n") + "\n";
        writeFileAs(path.join(dirs.ssh, "authorized_keys"), keys, 0o600);
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path.join(dirs.ssh, "ssh_host_ed25519_key")]);
        writeFileAs(path.join(dirs.ssh, "sshd_config"), [
            `ListenAddress ${host.address}:22`,
            `HostKey ${path.join(dirs.ssh, "ssh_host_ed25519_key")}`,
            `AuthorizedKeysFile ${path.join(dirs.ssh, "authorized_keys")}`,
            `PidFile ${path.join(dirs.ssh, "sshd.pid")}`,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            // The lab's state lives in a checkout whose parents sshd would otherwise have to vet.
            "StrictModes no",
            "PrintMotd no",
            "",
        ].join("\n"), 0o600);
        this.state.skipped = [...skipped];
        this.save();
    }

    private createNetwork(): void {
        const { network } = this.state;
        const addNamespace = (name: string) => {
            this.state.namespaces.push(name);
            this.save();
            run(["ip", "netns", "add", name]);
            run(["ip", "-n", name, "link", "set", "lo", "up"]);
        };
        addNamespace(network.bridgeNamespace);
        run(["ip", "-n", network.bridgeNamespace, "link", "add", "br0", "type", "bridge"]);
        run(["ip", "-n", network.bridgeNamespace, "link", "set", "br0", "up"]);
        for (const endpoint of [...network.hosts, network.app, network.admin, network.outsider]) {
            addNamespace(endpoint.namespace);
            run(["ip", "-n", network.bridgeNamespace, "link", "add", endpoint.bridgePort, "type", "veth", "peer", "name", "eth0", "netns", endpoint.namespace]);
            run(["ip", "-n", network.bridgeNamespace, "link", "set", endpoint.bridgePort, "master", "br0", "up"]);
            run(["ip", "-n", endpoint.namespace, "addr", "add", `${endpoint.address}/${network.prefixLength}`, "dev", "eth0"]);
            run(["ip", "-n", endpoint.namespace, "link", "set", "eth0", "up"]);
        }
    }

    /** A process that owns the host's private mount namespace, where its own dirs sit at Debian's paths. */
    private async startHolder(host: LabEndpoint): Promise<void> {
        const root = this.hostDir(host.namespace);
        const mounts: Array<[string, string]> = [
            [path.join(root, "etc-redis"), path.dirname(DEBIAN_PATHS.redisConf)],
            [path.join(root, "var-lib-redis"), DEBIAN_PATHS.dataDir],
            [path.join(root, "var-log-redis"), path.dirname(DEBIAN_PATHS.redisLog)],
            [path.join(root, "run-redis"), path.dirname(DEBIAN_PATHS.redisPid)],
            [path.join(root, "run-sentinel"), path.dirname(DEBIAN_PATHS.sentinelPid)],
        ];
        const script = [...mounts.map(([from, to]) => `mount --bind '${from}' '${to}'`), "echo ready", "exec sleep infinity"].join(" && ");
        const child = spawn("ip", ["netns", "exec", host.namespace, "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
        const ready = await new Promise<boolean>((resolve) => {
            let output = "";
            const timer = setTimeout(() => resolve(false), 10000);
            child.stdout!.on("data", (d) => {
                output += d;
                if (output.includes("ready")) {
                    clearTimeout(timer);
                    resolve(true);
                }
            });
            child.on("exit", () => {
                clearTimeout(timer);
                resolve(false);
            });
        });
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
        this.processes(host.namespace).holder = child.pid;
        this.save();
        if (!ready) throw new Error(`${host.namespace}: could not set up its mount namespace`);
    }

    private processes(host: string): HostProcesses {
        return (this.state.processes[host] ??= {});
    }

    private endpoint(host: string): LabEndpoint & { plan: TopologyPlan["hosts"][number] } {
        const endpoint = this.state.network.hosts.find((h) => h.namespace === host);
        if (!endpoint) throw new Error(`no lab host ${host}`);
        return endpoint;
    }

    /** Starts one of a host's services inside its namespaces, as Debian's unit would (redis as user redis). */
    async start(host: string, kind: ProcessKind): Promise<void> {
        const endpoint = this.endpoint(host);
        const holder = this.processes(host).holder;
        if (!processAlive(holder)) throw new Error(`${host}: its namespace holder is gone`);
        const root = this.hostDir(host);
        // As Debian's units run them: user redis, UMask=007 (Sentinel rewrites its config, passwords
        // included, with the process umask), LimitNOFILE=65535 (or this machine's hard limit, if lower),
        // and the same ExecStart arguments.
        const asRedis = ["sh", "-c", 'umask 007 && { ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)"; } && exec setpriv --reuid=redis --regid=redis --init-groups "$@"', "sh"];
        const argv = {
            redis: [...asRedis, "redis-server", DEBIAN_PATHS.redisConf, "--supervised", "systemd", "--daemonize", "no"],
            sentinel: [...asRedis, "redis-sentinel", DEBIAN_PATHS.sentinelConf, "--supervised", "systemd", "--daemonize", "no"],
            sshd: ["/usr/sbin/sshd", "-D", "-e", "-f", path.join(root, "ssh", "sshd_config")],
        }[kind];
        const logFile = path.join(root, `${kind}.stdout.log`);
        const out = fs.openSync(logFile, "a");
        const child = spawn("nsenter", ["-t", String(holder), "-m", "-n", "--", ...argv], { detached: true, stdio: ["ignore", out, out] });
        fs.closeSync(out);
        child.unref();
        this.processes(host)[kind] = child.pid;
        this.save();
        const port = { redis: this.state.settings.redisPort, sentinel: this.state.settings.sentinelPort, sshd: 22 }[kind];
        await this.waitForPort(endpoint.namespace, endpoint.address, port, 10000, kind);
    }

    /** Stops a service: SIGKILL by default (a crash), SIGTERM for a clean stop. */
    async stop(host: string, kind: ProcessKind, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
        const pid = this.processes(host)[kind];
        if (!processAlive(pid)) return;
        process.kill(pid!, signal);
        for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(50);
        if (processAlive(pid)) throw new Error(`${host}: ${kind} (pid ${pid}) did not stop`);
        delete this.processes(host)[kind];
        this.save();
    }

    isRunning(host: string, kind: ProcessKind): boolean {
        return processAlive(this.processes(host)[kind]);
    }

    private async waitForPort(namespace: string, address: string, port: number, timeoutMs: number, what: string): Promise<void> {
        const until = Date.now() + timeoutMs;
        while (Date.now() < until) {
            const probe = run(["ip", "netns", "exec", namespace, "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`], { allowFailure: true, timeoutMs: 2000 });
            if (probe.status === 0) return;
            await sleep(50);
        }
        throw new Error(`${namespace}: ${what} does not listen on ${address}:${port} after ${timeoutMs} ms (see ${this.hostDir(namespace)})`);
    }

    /** Runs a command in a namespace of the lab (app, admin, outsider or a host's network namespace). */
    exec(namespace: string, argv: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
        return runAsync(["ip", "netns", "exec", namespace, ...argv], options);
    }

    /** redis-cli from a lab namespace, authenticated through the environment (never argv). */
    redisCli(from: string, address: string, port: number, args: string[], password?: string) {
        const env = { ...process.env };
        delete env.REDISCLI_AUTH;
        if (password !== undefined) env.REDISCLI_AUTH = password;
        return this.exec(from, ["timeout", "5", "redis-cli", "--no-auth-warning", "-h", address, "-p", String(port), "--raw", ...args], { env, timeoutMs: 10000 });
    }

    /** SSH from the admin namespace, as an operator or `pulumi up` would. */
    ssh(host: string, command: string, input?: string, timeoutMs = 30000) {
        const endpoint = this.endpoint(host);
        return this.exec(this.state.network.admin.namespace, [
            "ssh", "-i", path.join(this.state.dir, "id_ed25519"),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
            `${this.state.settings.sshUser}@${endpoint.address}`, command,
        ], { input, timeoutMs });
    }

    /**
     * The post-deploy check on every Sentinel host, over SSH, with the script and parser the
     * SentinelQuorum component uses. The first host waits up to `timeoutSeconds` for health;
     * the others then get a short bound, since they check the same quorum.
     */
    async check(timeoutSeconds = 10): Promise<LabCheck> {
        const { plan, settings, network } = this.state;
        const sentinels = network.hosts.filter((h) => h.plan.sentinel).map((h) => `${h.address}:${settings.sentinelPort}`);
        const reports: LabCheck["reports"] = [];
        for (const [i, host] of plan.sentinels.entries()) {
            const budget = i === 0 ? timeoutSeconds : Math.min(timeoutSeconds, 10);
            const script = renderCheckScript({
                hostName: host.name,
                masterName: settings.masterName,
                sentinels,
                expectedReplicas: plan.replicas.length,
                maxLagSeconds: settings.minReplicasMaxLag,
                timeoutSeconds: budget,
                waitForCloudInit: false,
                intervalSeconds: 1,
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
        const { network, settings } = this.state;
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
        const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
        return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
    }

    /** Removes every process, namespace and file the lab made. Safe to run twice. */
    async down(): Promise<void> {
        for (const [host, processes] of Object.entries(this.state.processes)) {
            for (const kind of ["sentinel", "redis", "sshd"] as const) {
                if (processAlive(processes[kind])) await this.stop(host, kind, "SIGKILL").catch(() => undefined);
            }
            if (processAlive(processes.holder)) process.kill(processes.holder!, "SIGKILL");
        }
        removeNamespaces(labNamespaces(this.state.namePrefix, this.state.namespaces));
        fs.rmSync(this.state.dir, { recursive: true, force: true });
    }
}
