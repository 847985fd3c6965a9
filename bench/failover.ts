/**
 * npm run bench:failover [-- options]
 *
 * Fault drills in the lab (lab/drill.ts), side by side, for the Sentinel timings our users start from
 * and for redis-ha's defaults, measured in one run on one machine so the ratios mean something:
 *   ovh-article   down-after-milliseconds 5000, failover-timeout 60000 (the OVH article's sentinel.conf)
 *   do-article    down-after-milliseconds 30000, failover-timeout 180000 (the DigitalOcean article's)
 *   redis-ha      the stack defaults (or them with --set overrides, for a study)
 * Everything else (topology, auth, persistence, the clients and their snippets) is redis-ha's in
 * all three, so only the Sentinel timings differ.
 *
 * Options:
 *   --drills N          repetitions of the crash scenario per config (default 3)
 *   --other-drills N    repetitions of every other scenario (default 1)
 *   --scenarios a,b     scenarios to run (default: all; see SCENARIOS in lab/drill.ts)
 *   --configs a,b       configs to run (default: all three)
 *   --clients a,b       writers (default ioredis,phpredis,predis)
 *   --set key=value     override a redis-ha setting in the redis-ha config (repeatable)
 *   --soak SECONDS      after the drills, write for this long with no fault and count false failovers
 *   --json FILE         where to write every figure (default .state/bench/failover.json)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DrillResult, SCENARIOS, Scenario, runDrill, sentinelLogOffsets, sentinelLogsSince, switchesSince } from "../lab/drill";
import { Lab, labUnavailableReason } from "../lab/runtime";
import { sleep } from "../components/platforms/lab/shell";
import { WRITER_CLIENTS, WriterClient, startWriters } from "../lab/writers";
import { formatTable } from "../scripts/lib/table";
import { countOption, listOf, parseCommandLine, runMain } from "../scripts/lib/cli";
import { HeavyLock } from "../vm/runtime";

interface Config { name: string; overrides: Record<string, string>; from: string }

const CONFIGS: Config[] = [
    { name: "ovh-article", overrides: { downAfterMilliseconds: "5000", failoverTimeoutMilliseconds: "60000" }, from: "the OVH article's sentinel.conf" },
    { name: "do-article", overrides: { downAfterMilliseconds: "30000", failoverTimeoutMilliseconds: "180000" }, from: "the DigitalOcean article's sentinel.conf" },
    { name: "redis-ha", overrides: {}, from: "the stack defaults" },
];
const ALL_SCENARIOS = Object.keys(SCENARIOS) as Scenario[];

interface Options {
    drills: number;
    otherDrills: number;
    scenarios: Scenario[];
    configs: string[];
    clients: WriterClient[];
    set: Record<string, string>;
    soakSeconds: number;
    json: string;
}

export function parseFailoverArgs(argv: string[]): Options {
    const { values } = parseCommandLine({
        args: argv,
        options: {
            drills: { type: "string" }, "other-drills": { type: "string" }, scenarios: { type: "string" }, configs: { type: "string" },
            clients: { type: "string" }, set: { type: "string", multiple: true }, soak: { type: "string" }, json: { type: "string" },
        },
    }, "npm run bench:failover -- [options] (see the comment at the top of bench/failover.ts)");
    const set: Record<string, string> = {};
    for (const pair of values.set ?? []) {
        const [key, ...rest] = pair.split("=");
        if (!key || rest.length === 0) throw new Error(`--set ${JSON.stringify(pair)}: must be key=value`);
        set[key] = rest.join("=");
    }
    return {
        drills: countOption("drills", values.drills, 3, 200),
        otherDrills: countOption("other-drills", values["other-drills"], 1, 50),
        scenarios: values.scenarios === undefined ? ALL_SCENARIOS : listOf("scenario", values.scenarios, ALL_SCENARIOS),
        configs: values.configs === undefined ? CONFIGS.map((c) => c.name) : listOf("config", values.configs, CONFIGS.map((c) => c.name)),
        clients: values.clients === undefined ? ["ioredis", "phpredis", "predis"] : listOf("client", values.clients, WRITER_CLIENTS),
        set,
        soakSeconds: countOption("soak", values.soak, 0, 3600),
        json: path.resolve(values.json ?? path.join(__dirname, "..", ".state", "bench", "failover.json")),
    };
}

export const median = (values: number[]) => {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "-");

interface Cell { config: string; scenario: Scenario; drills: DrillResult[]; failures: string[] }

/** One kind of lost write, summed over every writer of every drill. */
const lostOf = (drills: DrillResult[], kind: "lost" | "confirmedLost" | "allConfirmedLost") =>
    drills.reduce((n, d) => n + d.writers.reduce((m, w) => m + w[kind], 0), 0);

/** Writes under load with no fault at all: any master switch is a false failover. */
async function soak(lab: Lab, clients: WriterClient[], seconds: number, log: (l: string) => void) {
    const offsets = sentinelLogOffsets(lab);
    const writers = await startWriters(lab, clients, { maxSeconds: seconds + 60 });
    const start = Date.now();
    try {
        while (Date.now() - start < seconds * 1000) {
            await sleep(Math.min(30000, seconds * 1000 - (Date.now() - start)));
            log(`soak: ${Math.round((Date.now() - start) / 1000)} s, ${switchesSince(lab, offsets).length} master switches so far`);
        }
        for (const w of writers) await w.stop();
    } finally {
        for (const w of writers) w.kill();
    }
    const sdowns = sentinelLogsSince(lab, offsets).reduce((n, text) => n + (text.match(/\+sdown /g) ?? []).length, 0);
    return {
        seconds,
        writes: writers.reduce((n, w) => n + w.acked.length, 0),
        errors: writers.reduce((n, w) => n + w.errors.length, 0),
        longestGapMs: Math.max(...writers.map((w) => w.outageSince(start).outageMs)),
        falseFailovers: switchesSince(lab, offsets).length,
        sdowns,
    };
}

async function main(): Promise<number> {
    const unavailable = labUnavailableReason();
    if (unavailable) {
        console.error(`bench:failover needs the lab: ${unavailable}`);
        return 2;
    }
    const options = parseFailoverArgs(process.argv.slice(2));
    const log = (line: string) => console.log(line);
    // Timing figures mean little beside three emulated VMs: take turns with the VM test (docs/vm.md).
    const lock = await HeavyLock.acquire(process.env.REDIS_HA_HEAVY_LOCK ?? "/tmp/redis-ha-heavy.lock", 60 * 60 * 1000, log);
    try {
        return await measure(options, log);
    } finally {
        await lock.release();
    }
}

async function measure(options: Options, log: (line: string) => void): Promise<number> {
    const configs = CONFIGS.filter((c) => options.configs.includes(c.name))
        .map((c) => (c.name === "redis-ha" ? { ...c, overrides: { ...c.overrides, ...options.set } } : c));
    const cells: Cell[] = [];
    const soaks: Record<string, unknown> = {};
    for (const config of configs) {
        const lab = await Lab.up({ stack: "lab", id: `bench-${config.name.slice(0, 6)}`, overrides: { ...config.overrides, checkTimeoutSeconds: "90" }, log });
        try {
            for (const scenario of options.scenarios) {
                const cell: Cell = { config: config.name, scenario, drills: [], failures: [] };
                cells.push(cell);
                const repeats = scenario === "crash" ? options.drills : options.otherDrills;
                for (let i = 0; i < repeats; i++) {
                    try {
                        const drill = await runDrill(lab, scenario, { clients: options.clients, failoverWithinMs: 120000, resumeWithinMs: 120000 });
                        cell.drills.push(drill);
                        log(`${config.name} ${scenario} ${i + 1}/${repeats}: ${drill.writers.map((w) => `${w.client} ${w.outageMs} ms`).join(", ")}; lost ${lostOf([drill], "lost")}` +
                            ` (confirmed by one replica ${lostOf([drill], "confirmedLost")}, by all ${lostOf([drill], "allConfirmedLost")}); failovers ${drill.failovers}; healthy after ${drill.healthyAfterMs} ms`);
                    } catch (e) {
                        const why = e instanceof Error ? e.message : String(e);
                        cell.failures.push(why);
                        log(`${config.name} ${scenario} ${i + 1}/${repeats}: FAILED: ${why.split("\n")[0]}`);
                    }
                }
            }
            if (options.soakSeconds > 0) {
                soaks[config.name] = await soak(lab, options.clients, options.soakSeconds, log);
                log(`${config.name} soak: ${JSON.stringify(soaks[config.name])}`);
            }
        } finally {
            await lab.down();
        }
    }

    const outagesOf = (cell: Cell) => cell.drills.flatMap((d) => d.writers.map((w) => w.outageMs));
    const baseline = (scenario: Scenario) => cells.find((c) => c.config === "redis-ha" && c.scenario === scenario);
    const header = ["SCENARIO", "CONFIG", "DRILLS", "OUTAGE MIN", "MEDIAN", "MAX", ...options.clients.map((c) => `${c.toUpperCase()} MED`), "LOST", "WAIT-1 LOST", "WAIT-ALL LOST", "FALSE FO", "HEALTHY MED", "REDIS-HA / THIS"];
    const rows = [header];
    for (const cell of cells) {
        const outages = outagesOf(cell);
        const ours = baseline(cell.scenario);
        const ratio = ours && outages.length > 0 && outagesOf(ours).length > 0 ? (median(outagesOf(ours)) / median(outages)).toFixed(2) : "-";
        rows.push([
            cell.scenario,
            cell.config,
            `${cell.drills.length}${cell.failures.length ? ` (+${cell.failures.length} failed)` : ""}`,
            seconds(Math.min(...outages)),
            seconds(median(outages)),
            seconds(Math.max(...outages)),
            ...options.clients.map((c) => seconds(median(cell.drills.flatMap((d) => d.writers.filter((w) => w.client === c).map((w) => w.outageMs))))),
            String(lostOf(cell.drills, "lost")),
            String(lostOf(cell.drills, "confirmedLost")),
            String(lostOf(cell.drills, "allConfirmedLost")),
            String(cell.drills.reduce((n, d) => n + d.falseFailovers, 0)),
            seconds(median(cell.drills.map((d) => d.healthyAfterMs))),
            ratio,
        ]);
    }
    console.log(`\n${formatTable(rows)}`);
    for (const [name, result] of Object.entries(soaks)) console.log(`soak ${name}: ${JSON.stringify(result)}`);
    const failed = cells.filter((c) => c.failures.length > 0);
    for (const cell of failed) console.log(`\n${cell.config} ${cell.scenario}: ${cell.failures.length} drill(s) failed:\n  ${cell.failures.map((f) => f.split("\n").slice(0, 3).join(" / ")).join("\n  ")}`);
    fs.mkdirSync(path.dirname(options.json), { recursive: true });
    fs.writeFileSync(options.json, JSON.stringify({
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
        options, configs, cells, soaks,
    }, null, 2));
    console.log(`\nwrote ${options.json}`);
    return failed.length > 0 ? 1 : 0;
}

if (require.main === module) runMain(main);
