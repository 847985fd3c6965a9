/**
 * npm run bench:failover [-- --drills N --json FILE]
 *
 * Master-crash drills in the lab, side by side, for the Sentinel timings our users start from and
 * for redis-ha's defaults, measured in one run on one machine so the ratios mean something:
 *   ovh-article   down-after-milliseconds 5000, failover-timeout 60000 (the OVH article's sentinel.conf)
 *   do-article    down-after-milliseconds 30000, failover-timeout 180000 (the DigitalOcean article's)
 *   redis-ha      the stack defaults
 * Everything else (topology, auth, persistence, the ioredis client options) is redis-ha's in all
 * three, so only the Sentinel timings differ. Only the crash scenario and an ioredis writer for now.
 */
import * as fs from "fs";
import * as path from "path";
import { DrillResult, crashDrill } from "../lab/drill";
import { Lab, labUnavailableReason } from "../lab/runtime";
import { formatTable } from "../scripts/lib/table";
import { runMain } from "../scripts/lib/cli";

interface Scenario { name: string; overrides: Record<string, string> }

const SCENARIOS: Scenario[] = [
    { name: "ovh-article", overrides: { downAfterMilliseconds: "5000", failoverTimeoutMilliseconds: "60000" } },
    { name: "do-article", overrides: { downAfterMilliseconds: "30000", failoverTimeoutMilliseconds: "180000" } },
    { name: "redis-ha", overrides: {} },
];

function parseArgs(argv: string[]) {
    const options = { drills: 3, json: path.resolve(__dirname, "..", ".state", "bench", "failover.json"), only: undefined as string | undefined };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--drills") options.drills = Math.max(1, Math.min(50, Number(argv[++i])));
        else if (argv[i] === "--json") options.json = path.resolve(argv[++i]);
        else if (argv[i] === "--only") options.only = argv[++i];
        else throw new Error(`unknown argument ${argv[i]}; usage: npm run bench:failover -- [--drills N] [--json FILE]`);
    }
    return options;
}

const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main(): Promise<number> {
    const unavailable = labUnavailableReason();
    if (unavailable) {
        console.error(`bench:failover needs the lab: ${unavailable}`);
        return 2;
    }
    const options = parseArgs(process.argv.slice(2));
    const results: Record<string, DrillResult[]> = {};
    const scenarios = SCENARIOS.filter((s) => !options.only || s.name === options.only || s.name === "redis-ha");
    for (const scenario of scenarios) {
        const lab = await Lab.up({ stack: "lab", id: `bench-${scenario.name.slice(0, 6)}`, overrides: { ...scenario.overrides, checkTimeoutSeconds: "90" } });
        try {
            results[scenario.name] = [];
            for (let i = 0; i < options.drills; i++) {
                const drill = await crashDrill(lab, { failoverWithinMs: 120000 });
                results[scenario.name].push(drill);
                console.log(`${scenario.name} drill ${i + 1}/${options.drills}: outage ${drill.outageMs} ms, lost ${drill.lost.length} of ${drill.acknowledged}, healthy after ${drill.healthyAfterMs} ms, ${drill.oldMaster} -> ${drill.newMaster}`);
            }
        } finally {
            await lab.down();
        }
    }
    const rows = [["SCENARIO", "DRILLS", "OUTAGE MIN", "MEDIAN", "MAX", "ACKED LOST", "HEALTHY (MEDIAN)", "REDIS-HA / THIS (MEDIAN OUTAGE)"]];
    const redisHaMedian = median(results["redis-ha"].map((d) => d.outageMs));
    for (const scenario of scenarios) {
        const outages = results[scenario.name].map((d) => d.outageMs);
        rows.push([
            scenario.name,
            String(outages.length),
            `${Math.min(...outages)} ms`,
            `${median(outages)} ms`,
            `${Math.max(...outages)} ms`,
            String(results[scenario.name].reduce((n, d) => n + d.lost.length, 0)),
            `${median(results[scenario.name].map((d) => d.healthyAfterMs))} ms`,
            (redisHaMedian / median(outages)).toFixed(2),
        ]);
    }
    console.log(`\n${formatTable(rows)}`);
    fs.mkdirSync(path.dirname(options.json), { recursive: true });
    fs.writeFileSync(options.json, JSON.stringify({ date: new Date().toISOString(), drillsPerScenario: options.drills, scenarios: SCENARIOS, results }, null, 2));
    console.log(`\nwrote ${options.json}`);
    return 0;
}

runMain(main);
