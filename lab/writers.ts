/**
 * The drills' application clients: each runs in the lab's app namespace, configured from the very
 * snippet the stack outputs (`clients.<name>`), and writes a numbered list through Sentinel while
 * the drill breaks things. The drill reads their progress live and, at the end, which acknowledged
 * writes the surviving master lacks.
 */
import { clientEnvironmentOf } from "../components/core/aclUsers";
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderClientSnippets } from "../components/core/clientConfig";
import type { LabNetwork } from "../components/platforms/lab/network";
import { sleep } from "../components/platforms/lab/shell";

/** ioredis 6 (npm), phpredis 5.3 (Debian php-redis), Predis 2.4 (fetched by setup), Predis 1.1 (Debian php-nrk-predis). */
export type WriterClient = "ioredis" | "phpredis" | "predis" | "predis1";
export const WRITER_CLIENTS: readonly WriterClient[] = ["ioredis", "phpredis", "predis", "predis1"];

export const PREDIS2_AUTOLOAD = path.resolve(__dirname, "..", ".tools", "predis", "2.4.1", "autoload.php");
export const PREDIS1_AUTOLOAD = "/usr/share/php/Predis/autoload.php";

/** Why a client cannot write in this lab, or undefined when it can. */
export function writerUnavailableReason(client: WriterClient, sentinelAuth: boolean): string | undefined {
    if (client === "ioredis") return undefined;
    if (!fs.existsSync("/usr/bin/php")) return "php-cli is not installed (npm run setup)";
    if (client === "phpredis" && !phpHasRedis()) return "the php-redis extension is not installed (npm run setup)";
    if (client === "predis" && !fs.existsSync(PREDIS2_AUTOLOAD)) return `Predis 2 is missing at ${PREDIS2_AUTOLOAD} (npm run setup)`;
    if (client === "predis1" && !fs.existsSync(PREDIS1_AUTOLOAD)) return "Debian's php-nrk-predis is not installed (npm run setup)";
    if (client === "predis1" && sentinelAuth) return "Predis 1.1 cannot authenticate to Sentinels: it needs a lab with sentinelAuth false";
    return undefined;
}

let phpRedisLoaded: boolean | undefined;
function phpHasRedis(): boolean {
    if (phpRedisLoaded === undefined) {
        phpRedisLoaded = spawnSync("php", ["-r", "exit(extension_loaded('redis') ? 0 : 1);"]).status === 0;
    }
    return phpRedisLoaded;
}

/**
 * The outage an app saw around a fault at `faultAt`: the longest silence between acknowledged writes,
 * from the last one before the fault on. Not simply "first write after the fault": a write in flight
 * at the fault can still be acknowledged before the silence starts. If the silence is still going on
 * at `now`, writes have not resumed.
 */
export function writeOutage(ackTimes: readonly number[], faultAt: number, now: number): { outageMs: number; resumed: boolean } {
    const firstAfter = ackTimes.findIndex((x) => x > faultAt);
    const times = firstAfter === -1 ? ackTimes.slice(-1) : ackTimes.slice(Math.max(0, firstAfter - 1));
    let longest = 0;
    for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i] - times[i - 1]);
    const sinceLast = now - (times[times.length - 1] ?? faultAt);
    return firstAfter === -1 || sinceLast > longest + 1000 ? { outageMs: Math.max(longest, sinceLast), resumed: false } : { outageMs: longest, resumed: true };
}

const IOREDIS_SENTINEL_NOISE = /^\[ioredis\] Unhandled error event: Error: connect (ETIMEDOUT|ECONNREFUSED|EHOSTUNREACH)\b/;

export class Writer {
    readonly acked: number[] = [];
    readonly ackTimes: number[] = [];
    /** Writes that at least one replica confirmed having (what WAIT 1 would have promised). */
    readonly confirmed = new Set<number>();
    /** Writes that every replica confirmed having: whichever replica Sentinel promotes has them. */
    readonly confirmedByAll = new Set<number>();
    /** Writes that failed, and whatever else the client printed on stderr that is not in clientLogs. */
    readonly errors: string[] = [];
    /**
     * What ioredis printed about its own Sentinel connections, no command of the app's behind it:
     * "[ioredis] Unhandled error event: Error: connect ETIMEDOUT" (or ECONNREFUSED, EHOSTUNREACH)
     * comes from the failover detector's subscribers, which ioredis gives no error listener
     * (redis/ioredis#1829), when a Sentinel's host is gone (a host loss, a scale-down).
     */
    readonly clientLogs: string[] = [];
    private pending = "";
    private stderrPending = "";
    private readonly exited: Promise<void>;

    /** `replicas`: how many replicas the master has when healthy, so how many "all" is. */
    constructor(readonly client: WriterClient, readonly key: string, private readonly child: ChildProcessWithoutNullStreams, private readonly replicas = 1) {
        child.stdout.on("data", (d: Buffer) => this.consume(d.toString()));
        child.stderr.on("data", (d: Buffer) => this.consumeStderr(d.toString()));
        child.stderr.on("end", () => this.consumeStderr("\n"));
        this.exited = new Promise((resolve) => child.on("exit", () => resolve()));
    }

    /** One message per line that is not indented; a stack trace's "    at ..." lines go with the message above them. */
    private consumeStderr(text: string): void {
        const lines = (this.stderrPending + text).split("\n");
        this.stderrPending = lines.pop()!;
        for (const line of lines) {
            if (line.trim() === "" || /^\s/.test(line)) continue;
            (IOREDIS_SENTINEL_NOISE.test(line) ? this.clientLogs : this.errors).push(`stderr ${line}`);
        }
    }

    private consume(text: string): void {
        const lines = (this.pending + text).split("\n");
        this.pending = lines.pop()!;
        for (const line of lines) {
            const ack = /^ack (\d+) (\d+)$/.exec(line);
            const wack = /^wack (\d+) \d+ (\d+)$/.exec(line);
            if (ack) {
                this.acked.push(Number(ack[1]));
                this.ackTimes.push(Number(ack[2]));
            } else if (wack) {
                this.confirmed.add(Number(wack[1]));
                if (Number(wack[2]) >= this.replicas) this.confirmedByAll.add(Number(wack[1]));
            } else if (line.startsWith("err ")) {
                this.errors.push(line);
            }
        }
    }

    get running(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }

    /** The outage this writer saw around a fault at `t`; see writeOutage. */
    outageSince(t: number): { outageMs: number; resumed: boolean } {
        return writeOutage(this.ackTimes, t, Date.now());
    }

    acksAfter(t: number): number { return this.ackTimes.filter((x) => x > t).length; }

    async stop(): Promise<void> {
        if (this.running) this.child.kill("SIGTERM");
        const killer = setTimeout(() => this.running && this.child.kill("SIGKILL"), 5000);
        await this.exited;
        clearTimeout(killer);
    }

    kill(): void {
        if (this.running) this.child.kill("SIGKILL");
    }
}

/** What the writers need of a lab: a `Lab` from `npm run lab`, or one the Pulumi engine made. */
export interface WriterTarget {
    settings: { masterName: string; sentinelPort: number; sentinelAuth?: boolean; replicaCount: number };
    network: Pick<LabNetwork, "hosts" | "app">;
    /** The lab's state directory (its name names the writers' snippet directory). */
    dir: string;
    secrets: { redisPassword: string; sentinelPassword: string };
}

/** Starts one writer per client, each on its own list, and waits until every one has written. */
export async function startWriters(lab: WriterTarget, clients: readonly WriterClient[], options: { intervalMs?: number; maxSeconds?: number; /** Lists are `<keyPrefix>:<client>`; writers started again on one cluster need their own, so that lost writes stay countable. Default "writes". */ keyPrefix?: string } = {}): Promise<Writer[]> {
    const settings = lab.settings;
    const sentinels = lab.network.hosts.filter((h) => h.plan.sentinel).map((h) => `${h.address}:${settings.sentinelPort}`);
    const snippets = renderClientSnippets({ masterName: settings.masterName, sentinels, sentinelAuth: settings.sentinelAuth !== false });
    // Under the repo (an engine lab's own directory is not), so the ioredis snippet's
    // `import Redis from "ioredis"` resolves to our node_modules; one directory per lab.
    const dir = path.join(__dirname, "..", ".state", "clients", path.basename(lab.dir));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { redisPassword, sentinelPassword } = lab.secrets;
    // What an app gets (clientEnvironment): the app user, never the stack's Redis password.
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ["REDIS_USERNAME", "REDIS_SENTINEL_PASSWORD"]) delete env[name];
    Object.assign(env, clientEnvironmentOf(redisPassword, sentinelPassword ?? ""));
    const writers: Writer[] = [];
    try {
        for (const client of clients) {
            const why = writerUnavailableReason(client, settings.sentinelAuth !== false);
            if (why) throw new Error(`writer ${client}: ${why}`);
            const key = `${options.keyPrefix ?? "writes"}:${client}`;
            const common = { key, intervalMs: options.intervalMs ?? 20, maxSeconds: options.maxSeconds ?? 600, waitMs: 100, replicas: settings.replicaCount };
            let argv: string[];
            if (client === "ioredis") {
                const snippetFile = path.join(dir, "ioredis.mjs");
                fs.writeFileSync(snippetFile, snippets.ioredis);
                argv = [process.execPath, path.join(__dirname, "writers", "ioredis.mjs"), JSON.stringify({ ...common, snippetFile })];
            } else {
                const snippetFile = path.join(dir, `${client}.php`);
                fs.writeFileSync(snippetFile, `<?php\n${snippets[client]}`);
                const autoload = client === "predis" ? PREDIS2_AUTOLOAD : client === "predis1" ? PREDIS1_AUTOLOAD : undefined;
                argv = ["php", path.join(__dirname, "writers", "writer.php"), JSON.stringify({ ...common, client, snippetFile, autoload })];
            }
            const child = spawn("ip", ["netns", "exec", lab.network.app.namespace, ...argv], { env });
            writers.push(new Writer(client, key, child, settings.replicaCount));
        }
        const until = Date.now() + 20000;
        while (writers.some((w) => w.acked.length < 10) && Date.now() < until) await sleep(100);
        const silent = writers.filter((w) => w.acked.length < 10);
        if (silent.length > 0) {
            throw new Error(`writers that could not write before the drill: ${silent.map((w) => `${w.client} (${w.errors.slice(-3).join(" | ") || "no output"})`).join("; ")}`);
        }
        return writers;
    } catch (e) {
        for (const w of writers) w.kill();
        throw e;
    }
}
