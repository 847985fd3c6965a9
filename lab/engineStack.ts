/**
 * A lab stack of its own on the real Pulumi engine, for the engine tests and the day-2 benchmark:
 * its own stack name, file backend and /24 (one this machine does not route yet, so a lab you
 * started, or another run, is never touched), driven through scripts/pulumi-lab.sh like a user's.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { LabHost, LabSpec } from "../components/platforms/lab/machine";
import { DEFAULT_LAB_STATE_ROOT } from "../components/platforms/lab";
import { runAsync } from "../components/platforms/lab/shell";
import { OPERATOR_USER, SENTINEL_ADMIN_USER } from "../components/core/aclUsers";
import type { WriterTarget } from "./writers";

const ROOT = path.resolve(__dirname, "..");

export interface PulumiResult { status: number | null; out: string }
export type Reach = Pick<WriterTarget, "network" | "secrets">;

export interface EngineLabOptions {
    /** The Pulumi project to run (an example program). Default: this checkout's stack program. */
    projectDir?: string;
    /** What the program's lab hosts are named after. Default redis-ha-<stack> (this checkout's program). */
    namePrefix?: string;
    /** The program's LabPlatform id. Default pl-<stack> (this checkout's program). */
    labId?: string;
    /** The environment pulumi runs in (a PATH with another Node first). Default this process's. */
    env?: NodeJS.ProcessEnv;
}

export class EngineLabStack {
    readonly backend = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-engine-"));
    readonly labDir: string;
    readonly secretsFile: string;
    /** Second octet of the stack's 10.x.0.0/24. */
    readonly octet: number;
    private projectDir: string;
    private readonly namePrefix: string;
    private readonly labId: string;
    private readonly baseEnv: NodeJS.ProcessEnv;

    /** `stack`: at most 9 characters (lab names derive from it). */
    constructor(readonly stack: string, options: EngineLabOptions = {}) {
        this.projectDir = options.projectDir ?? ROOT;
        this.namePrefix = options.namePrefix ?? `redis-ha-${stack}`;
        this.labId = (options.labId ?? `pl-${stack}`).slice(0, 12);
        this.baseEnv = options.env ?? process.env;
        this.labDir = path.join(DEFAULT_LAB_STATE_ROOT, this.labId);
        this.secretsFile = path.join(ROOT, ".state", "lab", `secrets-${stack}.json`);
        this.octet = reserveNetwork();
    }

    get stackFile(): string { return path.join(this.projectDir, `Pulumi.${this.stack}.yaml`); }

    /** Moves the project directory, as a user moves a checkout; the stack's state stays where it is. */
    moveProject(to: string): void {
        fs.renameSync(this.projectDir, to);
        this.projectDir = to;
    }

    /** An address of the stack's network, by its last octet. */
    address(last: number): string { return `10.${this.octet}.0.${last}`; }

    hostName(i: number): string { return `${this.namePrefix}-redis-${i}`; }

    /** Writes the stack file: this checkout's lab stack settings on this stack's network, plus `extra` lines. */
    writeStackFile(extra: string[] = []): void {
        fs.writeFileSync(this.stackFile, [
            "config:",
            "  redis-ha:cloud: lab",
            "  redis-ha:region: lab",
            `  redis-ha:privateNetworkCidr: ${this.address(0)}/24`,
            "  redis-ha:appCidrs:",
            `    - ${this.address(192)}/27`,
            "  redis-ha:adminCidrs:",
            `    - ${this.address(224)}/28`,
            ...extra,
            "",
        ].join("\n"));
    }

    private env(): NodeJS.ProcessEnv {
        // The program is type-checked once (npm test's tsc; an example's own tsc when it is installed):
        // the engine's ts-node checking it again cost 6 s of every preview and up.
        return { ...this.baseEnv, TS_NODE_TRANSPILE_ONLY: "true", LAB_STACK: this.stack, LAB_PROJECT_DIR: this.projectDir, PULUMI_BACKEND_URL: `file://${this.backend}` };
    }

    /** scripts/pulumi-lab.sh ACTION ARGS, blocking. */
    pulumi(action: string, args: string[] = [], timeoutMs = 600000): PulumiResult {
        // A stack export of a 5-node lab is over 1 MiB, spawnSync's default: cut there, it is no JSON.
        const result = spawnSync("bash", [path.join(ROOT, "scripts/pulumi-lab.sh"), action, ...args], { cwd: ROOT, encoding: "utf8", timeout: timeoutMs, env: this.env(), maxBuffer: 256 * 1024 * 1024 });
        return { status: result.status, out: `${result.stdout}\n${result.stderr}` };
    }

    /** The same without blocking the event loop (writers' output must keep flowing meanwhile). */
    async pulumiAsync(action: string, args: string[] = [], timeoutMs = 600000): Promise<PulumiResult> {
        const result = await runAsync(["bash", path.join(ROOT, "scripts/pulumi-lab.sh"), action, ...args], { timeoutMs, env: this.env() });
        return { status: result.status, out: `${result.stdout}\n${result.stderr}` };
    }

    /** npm run ops -- COMMAND --stack STACK, on this stack's backend. */
    ops(command: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
        return runAsync(["npx", "ts-node", "--transpile-only", path.join(ROOT, "scripts/ops.ts"), command, "--stack", this.stack], { timeoutMs: 300000, env: this.env() });
    }

    outputs(): Record<string, unknown> {
        return JSON.parse(this.pulumi("output").out.split("\n\n")[0] || "{}");
    }

    exportState(): { deployment: { resources: Array<{ urn: string; outputs?: Record<string, string> }> } } {
        return JSON.parse(this.pulumi("pulumi", ["stack", "export"]).out.split("\n\n")[0]);
    }

    /** What the engine recorded for a lab host: the lab spec and the host, as the lab's own code takes them. */
    labHost(i: number): { spec: LabSpec; host: LabHost } {
        const resource = this.exportState().deployment.resources.find((r) => r.outputs?.kind === "host" && r.outputs?.name === this.hostName(i));
        if (!resource) throw new Error(`no lab host ${this.hostName(i)} in the stack's state`);
        return JSON.parse(resource.outputs!.request);
    }

    /** How the app namespace reaches the nodes, and with which passwords. */
    reach(): Reach {
        return { network: this.labHost(0).spec.network, secrets: JSON.parse(fs.readFileSync(this.secretsFile, "utf8")) };
    }

    /** The writers' view of the stack (its defaults: 2 replicas, Sentinel auth on). */
    writerTarget(): WriterTarget {
        const { spec } = this.labHost(0);
        return { settings: { masterName: "redis-ha", sentinelPort: 26379, sentinelAuth: true, replicaCount: 2 }, network: spec.network, dir: spec.dir, secrets: this.reach().secrets };
    }

    leftovers(): { namespaces: string[]; link: boolean } {
        return {
            namespaces: spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`${this.namePrefix}-`)),
            link: spawnSync("ip", ["link", "show", `rl-${this.labId}`.slice(0, 15)], { encoding: "utf8" }).status === 0,
        };
    }

    /** Whatever happened: destroy what is left, remove the stack, its file, backend and secrets. */
    cleanUp(): void {
        const left = this.leftovers();
        if (left.namespaces.length > 0 || left.link) this.pulumi("destroy");
        this.pulumi("rm");
        fs.rmSync(this.stackFile, { force: true });
        fs.rmSync(this.backend, { recursive: true, force: true });
        fs.rmSync(this.secretsFile, { force: true });
        fs.rmSync(reservation(this.octet), { force: true });
    }
}

const RESERVATIONS = "/run/redis-ha-engine-nets";
const reservation = (octet: number) => path.join(RESERVATIONS, `10.${octet}`);

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return !fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
    } catch {
        return false;
    }
}

/**
 * Picks a 10.x.0.0/24 that no other run holds: not routed on this machine (a lab link) and not
 * reserved by a live process (another run that has not created its link yet). A reservation whose
 * process is gone is stale and taken over.
 */
function reserveNetwork(): number {
    fs.mkdirSync(RESERVATIONS, { recursive: true });
    const routed = spawnSync("ip", ["-4", "route", "show"], { encoding: "utf8" }).stdout ?? "";
    for (const octet of [43, 44, 45, 46, 47, 48, 49]) {
        if (routed.includes(`10.${octet}.0.`)) continue;
        const file = reservation(octet);
        const holder = Number(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : 0);
        if (holder && holder !== process.pid && alive(holder)) continue;
        fs.rmSync(file, { force: true });
        try {
            fs.writeFileSync(file, String(process.pid), { flag: "wx" });
            return octet;
        } catch {
            // another run took it between our look and our write
        }
    }
    throw new Error(`no free 10.43-49.0.0/24 for an engine lab: every one is routed here or reserved in ${RESERVATIONS}`);
}

/**
 * redis-cli from the app namespace, as an application reaches the nodes: with `password` (as `user`
 * when given); without one, as the operators log in, the stack's password as user operator (Redis's
 * default user is off).
 */
export async function appRedisCli(reach: Reach, i: number, args: string[], port = 6379, password?: string, user?: string): Promise<string> {
    const login = password === undefined ? { password: reach.secrets.redisPassword, user: OPERATOR_USER } : { password, user };
    const result = await runAsync(["ip", "netns", "exec", reach.network.app.namespace, "redis-cli", ...(login.user ? ["--user", login.user] : []), "-h", reach.network.hosts[i].address, "-p", String(port), "--raw", ...args], { env: { ...process.env, REDISCLI_AUTH: login.password } });
    return result.stdout;
}

/** redis-cli towards host i's Sentinel from the app namespace, as its operators log in: the admin user, the stack's Sentinel password. */
export function sentinelAdminCli(reach: Reach, i: number, args: string[]): Promise<string> {
    return appRedisCli(reach, i, args, 26379, reach.secrets.sentinelPassword, SENTINEL_ADMIN_USER);
}
