/**
 * npm run bench:day2 [-- --runs N --json FILE]
 *
 * Day-2 operations on a lab stack on the real Pulumi engine, with ioredis, phpredis and Predis
 * writing throughout (lab/writers.ts, built from the stack's own snippets). For each operation, the
 * wall time and the longest silence between two acknowledged writes each client saw while it ran,
 * beside a baseline measured in the same run: the longest silence during an equally long window in
 * which nothing is done (the writers' own jitter on this machine). A client that saw no outage shows
 * about the baseline; the ratio column says how much longer than that its longest silence was.
 *
 *   settings     `pulumi up` after a changed maxmemory (alternating 64mb / 80mb): the settings
 *                rollout, replicas first, the master last, then the checks
 *   switchover   `npm run ops -- switchover`: writes paused, replicas caught up, SENTINEL FAILOVER
 *   scale-up     `pulumi up` after replicaCount 2 -> 3: a new VM that joins the live master
 *   scale-down   `pulumi up` after replicaCount 3 -> 2: the node detached, every Sentinel reset in turn, the VM deleted
 *   rotation-1   `pulumi up` after a new redisPassword and sentinelPassword, with previousRedisPassword and
 *                previousSentinelPassword the old ones (writers on the old ones)
 *   rotation-2   `pulumi up` after both previous passwords are removed (writers restarted on the new ones)
 *
 * Options: --runs N (default 3, each operation), --json FILE (default .state/bench/day2.json).
 * Takes the heavy-job lock, as the VM test and bench:failover do.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineLabStack, appRedisCli } from "../lab/engineStack";
import { sentinelClientPassword } from "../components/core/aclUsers";
import { labUnavailableReason } from "../lab/runtime";
import { sleep } from "../components/platforms/lab/shell";
import { Writer, WriterClient, startWriters } from "../lab/writers";
import { countOption, parseCommandLine, runMain } from "../scripts/lib/cli";
import { formatTable } from "../scripts/lib/table";
import { HeavyLock } from "../vm/runtime";

const CLIENTS: WriterClient[] = ["ioredis", "phpredis", "predis"];

interface Sample { operation: string; run: number; totalMs: number; silenceMs: Record<string, number>; errors: number; errorLines: string[]; ok: boolean; detail?: string }

/** The longest gap between consecutive acknowledgements inside [from, to], edges included. */
function longestSilence(writer: Writer, from: number, to: number): number {
    const times = [from, ...writer.ackTimes.filter((t) => t >= from && t <= to), to];
    let longest = 0;
    for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i] - times[i - 1]);
    return longest;
}

const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};
const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "-");

async function observe(writers: Writer[], operation: string, run: number, act: () => Promise<{ ok: boolean; detail?: string }>): Promise<Sample> {
    const errorsBefore = new Map(writers.map((w) => [w, w.errors.length]));
    const from = Date.now();
    const { ok, detail } = await act();
    const to = Date.now();
    // A silence that ends only after the operation is part of it.
    await sleep(1000);
    return {
        operation, run, totalMs: to - from, ok, detail,
        silenceMs: Object.fromEntries(writers.map((w) => [w.client, longestSilence(w, from, Date.now())])),
        errors: writers.reduce((n, w) => n + w.errors.length - errorsBefore.get(w)!, 0),
        errorLines: writers.flatMap((w) => w.errors.slice(errorsBefore.get(w)).map((e) => `${w.client}: ${e}`)),
    };
}

export function parseDay2Args(argv: string[]): { runs: number; json: string } {
    const { values } = parseCommandLine({ args: argv, options: { runs: { type: "string" }, json: { type: "string" } } }, "npm run bench:day2 -- [--runs N] [--json FILE]");
    const runs = countOption("runs", values.runs, 3, 20);
    if (runs < 1) throw new Error("--runs must be at least 1");
    return { runs, json: path.resolve(values.json ?? path.join(__dirname, "..", ".state", "bench", "day2.json")) };
}

async function main(): Promise<number> {
    const unavailable = labUnavailableReason();
    if (unavailable) {
        console.error(`bench:day2 needs the lab: ${unavailable}`);
        return 2;
    }
    const { runs, json } = parseDay2Args(process.argv.slice(2));
    const log = (line: string) => console.log(line);
    const lock = await HeavyLock.acquire(process.env.REDIS_HA_HEAVY_LOCK ?? "/tmp/redis-ha-heavy.lock", 60 * 60 * 1000, log);
    const lab = new EngineLabStack(`bd${process.pid.toString(36)}`.slice(0, 9));
    const samples: Sample[] = [];
    const lost: Record<string, number> = {};
    let writers: Writer[] = [];
    // Every writer ever started, for the final count of lost writes; rotation restarts them.
    const allWriters: Writer[] = [];
    // The passwords the stack runs now; the rotation moves both.
    let passwords = { redisPassword: "", sentinelPassword: "" };
    const upAfter = async (configCommands: string[][], expect: RegExp, upArgs: string[] = []) => {
        for (const command of configCommands) {
            const set = await lab.pulumiAsync("pulumi", ["config", ...command]);
            if (set.status !== 0) return { ok: false, detail: set.out };
        }
        const result = await lab.pulumiAsync("up", upArgs);
        const ok = result.status === 0 && expect.test(result.out);
        // On success, the rollout's own account of the membership steps (each RESET says how long it took).
        // On success, the rollout's own account of the membership steps (each RESET says how long it took);
        // on failure, what failed, wherever it is in the log.
        const lines = result.out.split("\n");
        return { ok, detail: ok ? lines.filter((l) => /\b(RESET|DETACHED|RETIRED|HANDOVER|SYNCED|SWITCHED) /.test(l)).join("\n") || undefined : lines.filter((l) => /FAIL|failed|error|stopped/i.test(l)).slice(0, 40).join("\n") };
    };
    const hostUrn = (address: string) => {
        const i = lab.reach().network.hosts.findIndex((h) => h.address === address);
        const urn = lab.exportState().deployment.resources.find((r) => r.outputs?.kind === "host" && r.outputs?.name === lab.hostName(i))?.urn;
        if (!urn) throw new Error(`no lab host at ${address} in the stack's state`);
        return urn;
    };
    // The master the Sentinels name now, "address:port".
    const masterNow = async () => (await appRedisCli(lab.reach(), 0, ["SENTINEL", "get-master-addr-by-name", "redis-ha"], 26379, sentinelClientPassword(passwords.sentinelPassword))).trim().split("\n").join(":");
    const startOn = async () => {
        const target = lab.writerTarget();
        target.secrets = { ...target.secrets, ...passwords };
        writers = await startWriters(target, CLIENTS, { maxSeconds: 3600, keyPrefix: `writes${allWriters.length / CLIENTS.length}` });
        allWriters.push(...writers);
    };
    try {
        lab.writeStackFile(["  redis-ha:maxmemory: 64mb", '  redis-ha:checkTimeoutSeconds: "60"']);
        const up = await lab.pulumiAsync("up");
        if (up.status !== 0) throw new Error(`the lab stack did not come up:\n${up.out.slice(-3000)}`);
        passwords = { redisPassword: lab.reach().secrets.redisPassword, sentinelPassword: lab.reach().secrets.sentinelPassword };
        await startOn();
        for (let run = 1; run <= runs; run++) {
            const settings = await observe(writers, "settings", run, async () => {
                await lab.pulumiAsync("pulumi", ["config", "set", "redis-ha:maxmemory", run % 2 ? "80mb" : "64mb"]);
                const result = await lab.pulumiAsync("up");
                return { ok: result.status === 0 && /SET \S+ maxmemory/.test(result.out), detail: result.status === 0 ? undefined : result.out.slice(-2000) };
            });
            samples.push(settings);
            const baseline = await observe(writers, "baseline", run, async () => {
                await sleep(settings.totalMs);
                return { ok: true };
            });
            samples.push(baseline);
            const switchover = await observe(writers, "switchover", run, async () => {
                const result = await lab.ops("switchover");
                return { ok: result.status === 0, detail: result.status === 0 ? undefined : `${result.stdout}${result.stderr}` };
            });
            samples.push(switchover);
            await sleep(12000);
            const scaleUp = await observe(writers, "scale-up", run, () => upAfter([["set", "redis-ha:replicaCount", "3"]], /\+ \d+ created/));
            samples.push(scaleUp);
            const scaleDown = await observe(writers, "scale-down", run, () => upAfter([["set", "redis-ha:replicaCount", "2"]], /DETACHED [\s\S]*- \d+ deleted/));
            samples.push(scaleDown);
            const rotated = { redisPassword: `r${run}-${passwords.redisPassword}`.slice(0, 64), sentinelPassword: `r${run}-${passwords.sentinelPassword}`.slice(0, 64) };
            const rotation1 = await observe(writers, "rotation-1", run, () => upAfter([
                ["set", "--secret", "redis-ha:redisPassword", rotated.redisPassword], ["set", "--secret", "redis-ha:previousRedisPassword", passwords.redisPassword],
                ["set", "--secret", "redis-ha:sentinelPassword", rotated.sentinelPassword], ["set", "--secret", "redis-ha:previousSentinelPassword", passwords.sentinelPassword],
            ], /^(?=[\s\S]*ACCEPTS \d)(?=[\s\S]*ACCEPTS sentinel )/));
            samples.push(rotation1);
            // The apps move to the new passwords before the old ones are retired.
            for (const w of writers) await w.stop();
            passwords = rotated;
            await startOn();
            const rotation2 = await observe(writers, "rotation-2", run, () => upAfter([["rm", "redis-ha:previousRedisPassword"], ["rm", "redis-ha:previousSentinelPassword"]], /^(?=[\s\S]*RETIRED \d)(?=[\s\S]*RETIRED sentinel )/));
            samples.push(rotation2);
            // pulumi up --replace of one host: a replica (no switchover), then the master's (one).
            const currentMaster = await masterNow();
            const replica = lab.reach().network.hosts.slice(0, 3).map((h) => h.address).find((a) => `${a}:6379` !== currentMaster)!;
            const replaceReplica = await observe(writers, "replace-replica", run, () => upAfter([], /SYNCED /, ["--replace", hostUrn(replica)]));
            samples.push(replaceReplica);
            const replaceMaster = await observe(writers, "replace-master", run, async () => upAfter([], /HANDOVER [\s\S]*SYNCED /, ["--replace", hostUrn((await masterNow()).split(":")[0])]));
            samples.push(replaceMaster);
            await sleep(12000);
            for (const s of [settings, baseline, switchover, scaleUp, scaleDown, rotation1, rotation2, replaceReplica, replaceMaster]) log(`${s.operation} ${run}/${runs}: ${seconds(s.totalMs)}; longest silence ${CLIENTS.map((c) => `${c} ${seconds(s.silenceMs[c])}`).join(", ")}; errors ${s.errors}${s.errors ? ` (${s.errorLines.slice(0, 3).join(" | ")})` : ""}${s.ok ? "" : `; FAILED ${s.detail?.split("\n").slice(-5).join(" / ")}`}`);
            // The next run's switchover starts from a settled cluster, as the command demands.
            await sleep(12000);
        }
        for (const w of allWriters) await w.stop();
        // Every acknowledged write must be on the master the Sentinels name at the end.
        const reach = lab.reach();
        reach.secrets = { ...reach.secrets, ...passwords };
        const named = (await masterNow()).split(":")[0];
        const masterIndex = reach.network.hosts.findIndex((h) => h.address === named);
        for (const w of allWriters) {
            const stored = new Set((await appRedisCli(reach, masterIndex, ["LRANGE", w.key, "0", "-1"])).split("\n").filter(Boolean).map(Number));
            lost[w.client] = (lost[w.client] ?? 0) + w.acked.filter((n) => !stored.has(n)).length;
        }
    } finally {
        for (const w of allWriters) await w.stop();
        lab.cleanUp();
        await lock.release();
    }

    const baselineOf = (client: string) => median(samples.filter((s) => s.operation === "baseline").map((s) => s.silenceMs[client]));
    const rows = [["OPERATION", "RUNS", "TOTAL MED", ...CLIENTS.flatMap((c) => [`${c.toUpperCase()} SILENCE MED`, "/ BASELINE"]), "CLIENT ERRORS"]];
    for (const operation of ["settings", "switchover", "scale-up", "scale-down", "rotation-1", "rotation-2", "replace-replica", "replace-master", "baseline"]) {
        const mine = samples.filter((s) => s.operation === operation && s.ok);
        rows.push([
            operation,
            `${mine.length}${samples.filter((s) => s.operation === operation && !s.ok).length ? ` (+${samples.filter((s) => s.operation === operation && !s.ok).length} failed)` : ""}`,
            seconds(median(mine.map((s) => s.totalMs))),
            ...CLIENTS.flatMap((c) => {
                const silence = median(mine.map((s) => s.silenceMs[c]));
                return [seconds(silence), (silence / baselineOf(c)).toFixed(2)];
            }),
            String(mine.reduce((n, s) => n + s.errors, 0)),
        ]);
    }
    console.log(`\n${formatTable(rows)}`);
    console.log(`\nacknowledged writes missing from the final master: ${CLIENTS.map((c) => `${c} ${lost[c] ?? "?"}`).join(", ")}`);
    fs.mkdirSync(path.dirname(json), { recursive: true });
    fs.writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model }, runs, samples, lost }, null, 2));
    console.log(`wrote ${json}`);
    return samples.some((s) => !s.ok) || Object.values(lost).some((n) => n > 0) ? 1 : 0;
}

if (require.main === module) runMain(main);
