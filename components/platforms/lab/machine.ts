/**
 * The lab's machinery, one resource at a time: the network (a bridge in a namespace of its own,
 * plus the app, admin and outsider namespaces), and hosts (a namespace per planned VM, booted from
 * its user-data). `npm run lab` drives it all at once; the Pulumi engine drives it per resource
 * through `engine.ts`. Every host keeps its own state file, so hosts can be created in parallel.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { BOOT_GUARD_DROPIN_PATH, BOOT_GUARD_PASSWORD_FILE, BOOT_GUARD_PATH } from "../../../cloud-init/bootGuard";
import { OPERATOR_CREDENTIALS_FILE } from "../../../cloud-init/operatorCredentials";
import { NFT_TABLE } from "../../../cloud-init/nftables";
import { DEBIAN_PATHS } from "../../../cloud-init/paths";
import { FIRST_BOOT_SCRIPT, INSTALLED_MARKER, STAGING_DIR, stagedExporterFiles } from "../../../cloud-init/cloudConfig";
import { SECRET_TOKEN_PREFIX } from "../../../cloud-init/secretDelivery";
import { EXPORTERS, EXPORTER_LOGIN_DROPIN_PATH, EXPORTER_USER } from "../../../cloud-init/exporters";
import { cidrsOverlap, parseCidr } from "../../core/cidr";
import type { HostPlan } from "../../core/topology";
import type { LabEndpoint, LabNetwork } from "./network";
import { run, sleep } from "./shell";

export type ProcessKind = "redis" | "sentinel" | "sshd" | "redis-exporter" | "sentinel-exporter";
const EXPORTER_KINDS = { "redis-exporter": EXPORTERS.redis, "sentinel-exporter": EXPORTERS.sentinel } as const;
const EXPORTER_KIND_NAMES = Object.keys(EXPORTER_KINDS) as Array<keyof typeof EXPORTER_KINDS>;
const isExporter = (kind: ProcessKind): kind is keyof typeof EXPORTER_KINDS => kind in EXPORTER_KINDS;
/**
 * The host's own /etc/systemd/system, under its directory (bind-mounted there in the host): where its
 * exporter units and their drop-ins are, as on a VM, so a step that writes a drop-in writes it here.
 */
const LAB_SYSTEMD_DIR = "etc-systemd-system";
const SYSTEMD_DIR = "/etc/systemd/system";
/** Where a file under /etc/systemd/system of the host is, seen from this machine. */
const labSystemdFile = (root: string, file: string) => path.join(root, LAB_SYSTEMD_DIR, path.relative(SYSTEMD_DIR, file));
/** Where the lab keeps a host's exporter unit, to run its ExecStart as systemd would. */
const exporterUnitFile = (root: string, kind: keyof typeof EXPORTER_KINDS) => labSystemdFile(root, EXPORTER_KINDS[kind].unitPath);
export type LabHost = LabEndpoint & { plan: HostPlan };

/** What every lab operation needs to know about the lab it works on. */
export interface LabSpec {
    id: string;
    /** The lab's state directory (root only). */
    dir: string;
    /** Prefix of every namespace the lab creates. */
    namePrefix: string;
    network: LabNetwork;
    redisPort: number;
    sentinelPort: number;
    /**
     * A veth from this machine's own namespace into the lab's bridge, at this address (inside
     * adminCidrs): how the Pulumi engine's SSH checks reach the hosts, as they would a cloud's.
     */
    rootLink?: { address: string; device: string };
}

interface HostState {
    namespace: string;
    processes: Partial<Record<ProcessKind | "holder", number>>;
    /** Facts of the user-data that only make sense on a full VM, and why the lab leaves them out. */
    skipped: string[];
    /** The user-data withholds the passwords: its services start once a delivery has run first boot. */
    awaitsSecrets?: boolean;
}

export function writeFileAs(file: string, content: string, mode: number, owner?: string): void {
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    if (owner) run(["chown", owner, file]);
}

export function processAlive(pid: number | undefined): boolean {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        // A zombie is dead; this machine's PID 1 may be slow to reap what the lab killed.
        return !fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
    } catch {
        return false;
    }
}

/** Namespaces of a lab: those named with its prefix, plus any others it recorded. */
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

export const hostDir = (spec: Pick<LabSpec, "dir">, host: string) => path.join(spec.dir, "hosts", host);
const hostStateFile = (spec: Pick<LabSpec, "dir">, host: string) => path.join(hostDir(spec, host), "state.json");

export function readHostState(spec: Pick<LabSpec, "dir">, host: string): HostState | undefined {
    const file = hostStateFile(spec, host);
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
}

function saveHostState(spec: Pick<LabSpec, "dir">, host: string, state: HostState): void {
    writeFileAs(hostStateFile(spec, host), JSON.stringify(state, null, 2), 0o600);
}

export const labKeyFile = (spec: Pick<LabSpec, "dir">) => path.join(spec.dir, "id_ed25519");

/** ssh to a lab host with the lab's key; host keys are new on every boot, as on fresh VMs. */
export function sshArgv(spec: Pick<LabSpec, "dir">, user: string, address: string): string[] {
    return [
        "ssh", "-i", labKeyFile(spec),
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
        "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
        `${user}@${address}`,
    ];
}

function addNamespace(name: string): void {
    run(["ip", "netns", "add", name]);
    run(["ip", "-n", name, "link", "set", "lo", "up"]);
}

function attach(spec: LabSpec, endpoint: LabEndpoint): void {
    const bridge = spec.network.bridgeNamespace;
    run(["ip", "-n", bridge, "link", "add", endpoint.bridgePort, "type", "veth", "peer", "name", "eth0", "netns", endpoint.namespace]);
    run(["ip", "-n", bridge, "link", "set", endpoint.bridgePort, "master", "br0", "up"]);
    // A cloud keeps a fixed address's MAC with its port when the VM behind it is replaced. A fresh
    // random one here would leave every peer's ARP entry pointing at the old VM until it expires (up
    // to about 50 s), and an SSH dial to the new one times out meanwhile.
    run(["ip", "-n", endpoint.namespace, "link", "set", "eth0", "address", macFor(endpoint.address)]);
    run(["ip", "-n", endpoint.namespace, "addr", "add", `${endpoint.address}/${spec.network.prefixLength}`, "dev", "eth0"]);
    run(["ip", "-n", endpoint.namespace, "link", "set", "eth0", "up"]);
}

/** A locally administered unicast MAC that follows from the IPv4 address alone. */
export function macFor(address: string): string {
    return ["02", "72", ...address.split(".").map((octet) => Number(octet).toString(16).padStart(2, "0"))].join(":");
}

/** Refuses to shadow a network this machine already routes: the lab's link must only reach the lab. */
function checkRootLinkIsFree(spec: LabSpec): void {
    const ours = parseCidr(`${spec.network.subnet}`);
    if (!ours.ok) throw new Error(`lab subnet ${spec.network.subnet}: ${ours.reason}`);
    for (const line of run(["ip", "-4", "route", "show"]).stdout.split("\n")) {
        const destination = line.split(" ")[0];
        if (!destination || destination === "default") continue;
        const parsed = parseCidr(destination.includes("/") ? destination : `${destination}/32`);
        if (parsed.ok && cidrsOverlap(parsed.cidr, ours.cidr)) {
            throw new Error(`this machine already routes ${destination} (${line.trim()}), which overlaps the lab's ${spec.network.subnet}; choose another redis-ha:privateNetworkCidr for the lab stack`);
        }
    }
}

/** Creates the lab's wire and the namespaces around the hosts. */
export function networkUp(spec: LabSpec): void {
    fs.mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(spec.dir, 0o700);
    if (spec.rootLink) checkRootLinkIsFree(spec);
    if (!fs.existsSync(labKeyFile(spec))) run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `redis-ha lab ${spec.id}`, "-f", labKeyFile(spec)]);
    // Mount points for the hosts' own dirs (the packages' runtime dirs, and the one redis-ha writes on a VM).
    for (const dir of ["/run/redis", "/run/sentinel", "/run/sshd", path.dirname(BOOT_GUARD_PASSWORD_FILE), path.dirname(BOOT_GUARD_PATH), path.dirname(INSTALLED_MARKER)]) fs.mkdirSync(dir, { recursive: true });
    const { network } = spec;
    addNamespace(network.bridgeNamespace);
    run(["ip", "-n", network.bridgeNamespace, "link", "add", "br0", "type", "bridge"]);
    run(["ip", "-n", network.bridgeNamespace, "link", "set", "br0", "up"]);
    for (const endpoint of [network.app, network.admin, network.outsider]) {
        addNamespace(endpoint.namespace);
        attach(spec, endpoint);
    }
    if (spec.rootLink) {
        run(["ip", "link", "add", spec.rootLink.device, "type", "veth", "peer", "name", "vroot", "netns", network.bridgeNamespace]);
        run(["ip", "-n", network.bridgeNamespace, "link", "set", "vroot", "master", "br0", "up"]);
        run(["ip", "addr", "add", `${spec.rootLink.address}/${network.prefixLength}`, "dev", spec.rootLink.device]);
        run(["ip", "link", "set", spec.rootLink.device, "up"]);
    }
}

/** Removes every process, namespace, link and file of the lab. Safe to run twice. */
export function networkDown(spec: Pick<LabSpec, "dir" | "namePrefix" | "rootLink">): void {
    removeNamespaces(labNamespaces(spec.namePrefix));
    if (spec.rootLink) run(["ip", "link", "del", spec.rootLink.device], { allowFailure: true });
    fs.rmSync(spec.dir, { recursive: true, force: true });
}

/**
 * Boots one host from its user-data, as cloud-init and the first-boot script would on a VM. A host
 * that is already up is left alone: like a VM, it is never re-rendered.
 */
export async function hostUp(spec: LabSpec, host: LabHost, userData: string, nftables: string): Promise<HostState> {
    const existing = readHostState(spec, host.namespace);
    if (existing && processAlive(existing.processes.holder)) return existing;
    const root = hostDir(spec, host.namespace);
    fs.mkdirSync(root, { recursive: true });
    const installed = installFiles(spec, host, userData);
    const state: HostState = { namespace: host.namespace, processes: {}, skipped: installed.skipped, awaitsSecrets: installed.awaitsSecrets };
    saveHostState(spec, host.namespace, state);
    addNamespace(host.namespace);
    attach(spec, host);
    setHostFirewall(spec, host, nftables);
    joinClusterSets(spec, host);
    await startHolder(spec, host);
    await startService(spec, host, "sshd");
    // Without its passwords a host runs only sshd: the services wait, as units first boot has not
    // started yet, and start when the delivery's first boot marks the host installed.
    const start = (kind: ProcessKind) => (installed.awaitsSecrets ? startService(spec, host, kind, { afterFirstBoot: true }) : startService(spec, host, kind));
    if (host.plan.redisRole) await start("redis");
    if (host.plan.sentinel) await start("sentinel");
    for (const kind of EXPORTER_KIND_NAMES) {
        if (fs.existsSync(exporterUnitFile(hostDir(spec, host.namespace), kind))) await start(kind);
    }
    return readHostState(spec, host.namespace)!;
}

/**
 * A new host is a member of "the cluster" for the hosts already running, as a VM that joins a
 * security group (OpenStack's remote group, DigitalOcean's tag) is for its peers at once: its address
 * goes into their cluster sets now. Their own rulesets, rendered with it, follow when the engine
 * updates those hosts, which in a rolling chain may come only after this host has synced.
 */
function joinClusterSets(spec: LabSpec, host: LabHost): void {
    for (const other of spec.network.hosts) {
        if (other.namespace === host.namespace || !processAlive(readHostState(spec, other.namespace)?.processes.holder)) continue;
        run(["ip", "netns", "exec", other.namespace, "nft", "add", "element", "inet", NFT_TABLE, "cluster", `{ ${host.address} }`], { allowFailure: true });
    }
}

/** Loads a host's nftables ruleset; the rendered ruleset deletes its own table first, so this also replaces one. */
export function setHostFirewall(spec: Pick<LabSpec, "dir">, host: LabEndpoint, nftables: string): void {
    const file = path.join(hostDir(spec, host.namespace), "nftables.conf");
    writeFileAs(file, nftables, 0o600);
    run(["ip", "netns", "exec", host.namespace, "nft", "-f", file]);
}

export function hostDown(spec: Pick<LabSpec, "dir">, hostName: string): void {
    const state = readHostState(spec, hostName);
    for (const pid of Object.values(state?.processes ?? {})) {
        if (processAlive(pid)) process.kill(pid!, "SIGKILL");
    }
    removeNamespaces([hostName]);
    fs.rmSync(hostDir(spec, hostName), { recursive: true, force: true });
}

function installFiles(spec: LabSpec, host: LabHost, userData: string): { skipped: string[]; awaitsSecrets: boolean } {
    const document = parse(userData);
    const root = hostDir(spec, host.namespace);
    const dirs = { etcHa: path.join(root, "etc-redis-ha"), etc: path.join(root, "etc-redis"), lib: path.join(root, "var-lib-redis"), libHa: path.join(root, "var-lib-redis-ha"), log: path.join(root, "var-log-redis"), runRedis: path.join(root, "run-redis"), runSentinel: path.join(root, "run-sentinel"), ssh: path.join(root, "ssh") };
    for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
    for (const d of [dirs.etc, dirs.lib, dirs.log, dirs.runRedis, dirs.runSentinel]) {
        run(["chown", "redis:redis", d]);
        fs.chmodSync(d, 0o750);
    }
    writeFileAs(path.join(root, "user-data"), userData, 0o600);
    const skipped = [`packages (${document.packages.join(", ")}): already installed on this machine by npm run setup; every namespace runs the same binaries`];
    const staged = (kind: keyof typeof EXPORTER_KINDS) => stagedExporterFiles(EXPORTER_KINDS[kind].service);
    const files = document.write_files as Array<{ path: string; content: string }>;
    // Withheld passwords: the files stay where cloud-init writes them, and the first-boot script (the
    // lab's cut of it) installs them once a delivery has put the passwords in.
    const awaitsSecrets = files.some((f) => f.content.includes(SECRET_TOKEN_PREFIX));
    for (const file of files) {
        const passwordOf = EXPORTER_KIND_NAMES.find((kind) => file.path === `${STAGING_DIR}/${staged(kind).passwordFile}`);
        const unitOf = EXPORTER_KIND_NAMES.find((kind) => file.path === `${STAGING_DIR}/${staged(kind).unit}`);
        if (awaitsSecrets && file.path.startsWith(`${STAGING_DIR}/`)) {
            // As cloud-init writes it, inside the host's /etc/redis-ha (bind-mounted).
            fs.mkdirSync(path.join(dirs.etcHa, "staged"), { recursive: true });
            writeFileAs(path.join(dirs.etcHa, "staged", path.basename(file.path)), file.content, 0o600);
        }
        if (awaitsSecrets && file.path === FIRST_BOOT_SCRIPT) {
            fs.mkdirSync(path.join(root, LAB_SBIN), { recursive: true });
            const services = [...(host.plan.redisRole ? [spec.redisPort] : []), ...(host.plan.sentinel ? [spec.sentinelPort] : [])].map((port) => `${host.address}:${port}`);
            writeFileAs(path.join(root, LAB_SBIN, path.basename(FIRST_BOOT_SCRIPT)), labFirstBoot(file.content, services), 0o700);
            skipped.push(`${file.path}: run by the delivery without its systemctl and sysctl lines (no systemd in a namespace, sysctls are this machine's); the lab starts the services once it marks the host installed`);
        } else if (awaitsSecrets && file.path.startsWith(`${STAGING_DIR}/`) && !unitOf) {
            // Installed by first boot, after the delivery.
        } else if (passwordOf) {
            // The first-boot script's install step: readable by the exporter's group only.
            writeFileAs(path.join(dirs.etcHa, path.basename(EXPORTER_KINDS[passwordOf].passwordFile)), file.content, 0o640, `root:${EXPORTER_USER}`);
        } else if (unitOf) {
            fs.mkdirSync(path.dirname(exporterUnitFile(root, unitOf)), { recursive: true });
            writeFileAs(exporterUnitFile(root, unitOf), file.content, 0o644);
            skipped.push(`${EXPORTER_KINDS[unitOf].unitPath}: no systemd in a namespace; the lab runs its ExecStart as its User, restarted whenever it exits (Restart=always)`);
        } else if (file.path.startsWith(`${STAGING_DIR}/`)) {
            // The first-boot script's install step: into the host's own /etc/redis, owned by redis.
            writeFileAs(path.join(dirs.etc, path.basename(file.path)), file.content, 0o640, "redis:redis");
        } else if (file.path === BOOT_GUARD_PASSWORD_FILE || file.path === OPERATOR_CREDENTIALS_FILE) {
            writeFileAs(path.join(dirs.etcHa, path.basename(file.path)), file.content, 0o600);
        } else if (file.path === BOOT_GUARD_PATH) {
            // At its own path inside the host (bind-mounted below), where the boot guard step updates it.
            fs.mkdirSync(path.join(root, LAB_SBIN), { recursive: true });
            writeFileAs(path.join(root, LAB_SBIN, path.basename(BOOT_GUARD_PATH)), file.content, 0o700);
        } else if (file.path === BOOT_GUARD_DROPIN_PATH) {
            skipped.push(`${file.path}: no systemd in a namespace; the lab runs the boot guard itself before every start of redis-server`);
        } else if (file.path === EXPORTER_LOGIN_DROPIN_PATH) {
            // Read with its unit at every start of the exporter, as systemd does after daemon-reload.
            const target = labSystemdFile(root, file.path);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            writeFileAs(target, file.content, 0o644);
        } else if (file.path.startsWith("/etc/sysctl.d/")) {
            skipped.push(`${file.path}: sysctls are the kernel's, shared by every namespace; setting them would change this machine`);
        } else if (file.path.endsWith("redis-ha-thp.service")) {
            skipped.push(`${file.path}: transparent huge pages are a kernel setting of this machine, not of a namespace`);
        } else if (file.path.endsWith("redis-ha-firstboot")) {
            skipped.push(`${file.path}: the lab does its steps itself (install the staged configs, start the services), with no systemd in a namespace`);
        }
    }
    // The user-data's keys, plus the lab's own, as a cloud adds the key pair it was given.
    const labKey = fs.readFileSync(`${labKeyFile(spec)}.pub`, "utf8").trim();
    writeFileAs(path.join(dirs.ssh, "authorized_keys"), [...(document.ssh_authorized_keys ?? []), labKey].join("\n") + "\n", 0o600);
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
    return { skipped, awaitsSecrets };
}

/**
 * The first-boot script as a lab host can run it: the lines that install the staged files into the
 * host's own /etc/redis and /etc/redis-ha and mark it installed, without those for systemd (the lab
 * runs the services itself) and the kernel (shared by every namespace). Any other line is refused,
 * so a new step in first boot is never run against this machine unnoticed. As `systemctl restart`
 * returns once the unit is up, it ends when each of `services` (address:port) listens: the lab
 * starts them at the installed mark.
 */
export function labFirstBoot(script: string, services: readonly string[] = []): string {
    const keep = [
        /^#/, /^$/, /^set -euo pipefail$/, /^if \[ -e \/var\/lib\/redis-ha\/installed \]; then .*; fi$/, /^if grep -qsF -- .*; fi$/, /^staged=\/etc\/redis-ha\/staged$/,
        /^install (-D )?-o \S+ -g \S+ -m 0640 "\$staged\/[\w.-]+" \/etc\/redis(-ha)?\/[\w.-]+$/, /^rm -rf "\$staged"$/,
        /^mkdir -p "\$\(dirname \/var\/lib\/redis-ha\/installed\)" && date -u \+%FT%TZ > \/var\/lib\/redis-ha\/installed$/, /^echo "[^"]*"$/,
    ];
    const skip = [/^systemctl /, /^sysctl /, /^install .* \/etc\/systemd\/system\/[\w.-]+$/];
    const lines = script.trimEnd().split("\n").map((line) => {
        if (keep.some((r) => r.test(line))) return line;
        if (skip.some((r) => r.test(line))) return `# lab: left out: ${line}`;
        throw new Error(`the first-boot script has a line the lab cannot place (run it, or leave it out, in labFirstBoot): ${line}`);
    });
    const listens = 'listens() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }';
    const waits = services.map((s) => `for _ in $(seq 1 600); do listens ${s} && break; sleep 0.1; done; listens ${s} || { echo "redis-ha: nothing listens on ${s} 60 s after first boot" >&2; exit 1; }`);
    return [...lines, ...(waits.length ? ["# lab: the services start at the installed mark; wait for them as systemctl restart would", listens, ...waits] : []), ""].join("\n");
}

/** The host's own /usr/local/sbin, under its directory. */
const LAB_SBIN = "usr-local-sbin";

/** A process that owns the host's private mount namespace, where its own dirs sit at Debian's paths. */
async function startHolder(spec: LabSpec, host: LabEndpoint): Promise<void> {
    const root = hostDir(spec, host.namespace);
    const mounts: Array<[string, string]> = [
        [path.join(root, "etc-redis-ha"), path.dirname(BOOT_GUARD_PASSWORD_FILE)],
        [path.join(root, "etc-redis"), path.dirname(DEBIAN_PATHS.redisConf)],
        [path.join(root, "var-lib-redis"), DEBIAN_PATHS.dataDir],
        [path.join(root, "var-lib-redis-ha"), path.dirname(INSTALLED_MARKER)],
        [path.join(root, "var-log-redis"), path.dirname(DEBIAN_PATHS.redisLog)],
        [path.join(root, "run-redis"), path.dirname(DEBIAN_PATHS.redisPid)],
        [path.join(root, "run-sentinel"), path.dirname(DEBIAN_PATHS.sentinelPid)],
        // Where the boot guard is (the machine's own /usr/local/sbin is hidden from the host).
        [path.join(root, LAB_SBIN), path.dirname(BOOT_GUARD_PATH)],
        // Where its exporter units and their drop-ins are (the machine's own are hidden from the host).
        [path.join(root, LAB_SYSTEMD_DIR), SYSTEMD_DIR],
    ];
    for (const [from] of mounts) fs.mkdirSync(from, { recursive: true });
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
    const state = readHostState(spec, host.namespace)!;
    state.processes.holder = child.pid;
    saveHostState(spec, host.namespace, state);
    if (!ready) throw new Error(`${host.namespace}: could not set up its mount namespace`);
}

async function waitForPort(namespace: string, address: string, port: number, timeoutMs: number, what: string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
        const probe = run(["ip", "netns", "exec", namespace, "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`], { allowFailure: true, timeoutMs: 2000 });
        if (probe.status === 0) return;
        await sleep(50);
    }
    throw new Error(`${namespace}: ${what} does not listen on ${address}:${port} after ${timeoutMs} ms`);
}

/** Starts one of a host's services inside its namespaces, as Debian's unit would. */
export async function startService(spec: LabSpec, host: LabHost, kind: ProcessKind, options: { afterFirstBoot?: boolean } = {}): Promise<void> {
    const state = readHostState(spec, host.namespace);
    if (!state || !processAlive(state.processes.holder)) throw new Error(`${host.namespace}: the host is not up`);
    const root = hostDir(spec, host.namespace);
    // As Debian's units run them: user redis, UMask=007 (Sentinel rewrites its config, passwords
    // included, with the process umask), LimitNOFILE=65535 (or this machine's hard limit, if lower),
    // and the same ExecStart arguments.
    const asRedis = ["sh", "-c", 'umask 007 && { ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)"; } && exec setpriv --reuid=redis --regid=redis --init-groups "$@"', "sh"];
    const argv = isExporter(kind) ? exporterArgv(root, kind) : {
        redis: [...asRedis, "redis-server", DEBIAN_PATHS.redisConf, "--supervised", "systemd", "--daemonize", "no"],
        sentinel: [...asRedis, "redis-sentinel", DEBIAN_PATHS.sentinelConf, "--supervised", "systemd", "--daemonize", "no"],
        sshd: ["/usr/sbin/sshd", "-D", "-e", "-f", path.join(root, "ssh", "sshd_config")],
    }[kind];
    const guarded = kind === "redis" && fs.existsSync(path.join(root, LAB_SBIN, path.basename(BOOT_GUARD_PATH)));
    if (guarded && !options.afterFirstBoot) {
        // ExecStartPre=+ on a VM: before every start, as root, in the host's namespaces, from its path there.
        const guard = run(["nsenter", "-t", String(state.processes.holder), "-m", "-n", "--", "bash", BOOT_GUARD_PATH], { timeoutMs: 30000, allowFailure: true });
        fs.appendFileSync(path.join(root, "boot-guard.log"), guard.stdout + guard.stderr);
    }
    // A unit first boot has not started yet: the same process waits for the installed mark (then runs
    // the boot guard, as ExecStartPre would), so the lab still knows its PID.
    const waiting = options.afterFirstBoot
        ? ["sh", "-c", `until [ -e ${INSTALLED_MARKER} ]; do sleep 0.2; done; ${guarded ? `timeout 30 bash ${BOOT_GUARD_PATH} >> '${path.join(root, "boot-guard.log")}' 2>&1;` : ""} exec "$@"`, "sh"]
        : [];
    const out = fs.openSync(path.join(root, `${kind}.stdout.log`), "a");
    const child = spawn("nsenter", ["-t", String(state.processes.holder), "-m", "-n", "--", ...waiting, ...argv], { detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    state.processes[kind] = child.pid;
    saveHostState(spec, host.namespace, state);
    if (options.afterFirstBoot) return;
    const port = isExporter(kind) ? EXPORTER_KINDS[kind].port : { redis: spec.redisPort, sentinel: spec.sentinelPort, sshd: 22 }[kind];
    await waitForPort(host.namespace, host.address, port, 10000, kind);
}

/**
 * The exporter as its unit runs it: the unit's ExecStart as its User, with the Environment= lines of
 * its drop-ins, started again 2 s after it exits (Restart=always, RestartSec=2). Unit and drop-ins are
 * read again at every start, inside the host, as systemd does after a daemon-reload: a step that
 * changes the exporter's login (a drop-in) and restarts it by a signal works here too.
 */
function exporterArgv(root: string, kind: keyof typeof EXPORTER_KINDS): string[] {
    const unit = fs.readFileSync(exporterUnitFile(root, kind), "utf8");
    if (!/^User=\S+$/m.test(unit) || !/^ExecStart=.+$/m.test(unit) || !/^RestartSec=2$/m.test(unit)) throw new Error(`${kind}: the unit has no User, ExecStart or RestartSec=2 the lab can run:\n${unit}`);
    // Word splitting of ExecStart and of the Environment= assignments is the point (no unit of ours quotes).
    const loop = [
        "while :; do",
        "user=$(sed -n 's/^User=//p' \"$1\")",
        "exec_start=$(sed -n 's/^ExecStart=//p' \"$1\")",
        "environment=$(cat \"$1.d\"/*.conf 2>/dev/null | sed -n 's/^Environment=//p')",
        "env $environment setpriv --reuid=\"$user\" --regid=\"$user\" --init-groups $exec_start",
        "sleep 2",
        "done",
    ].join("; ").replace("do;", "do");
    return ["sh", "-c", loop, "sh", EXPORTER_KINDS[kind].unitPath];
}

/** Stops a service: SIGKILL by default (a crash), SIGTERM for a clean stop. */
export async function stopService(spec: Pick<LabSpec, "dir">, hostName: string, kind: ProcessKind, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const state = readHostState(spec, hostName);
    const pid = state?.processes[kind];
    if (!state || !processAlive(pid)) return;
    // An exporter runs under the lab's restart loop: the whole group goes, as `systemctl stop` would.
    process.kill(isExporter(kind) ? -pid! : pid!, signal);
    for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(50);
    if (processAlive(pid)) throw new Error(`${hostName}: ${kind} (pid ${pid}) did not stop`);
    delete state.processes[kind];
    saveHostState(spec, hostName, state);
}
