/**
 * npm run bench:wordpress [-- options]
 *
 * A WordPress shop (lab/wordpress.ts: Debian's WordPress, MariaDB, the Redis Object Cache plugin
 * 2.6.3) through the lab's fault drills, one setup after another on one lab and one machine, so the
 * figures compare. Three shoppers, each a page view a second, each view a fresh PHP process.
 *
 * Options:
 *   --setups a,b      which setups (default: all, see WORDPRESS_SETUPS in lab/wordpress.ts)
 *   --scenarios a,b   which drills (default crash,host-loss,planned-switchover)
 *   --drills N        repetitions of each (default 2)
 *   --json FILE       where to write every figure (default .state/bench/wordpress.json)
 */
import * as fs from "fs";
import * as path from "path";
import { SCENARIOS, Scenario, runDrill } from "../lab/drill";
import { Lab, labUnavailableReason } from "../lab/runtime";
import { ShopFigures, ShopTraffic, WORDPRESS_SETUPS, WordPressSetup, WordPressSite, wordpressUnavailableReason } from "../lab/wordpress";
import { formatTable } from "../scripts/lib/table";
import { countOption, listOf, parseCommandLine, runMain } from "../scripts/lib/cli";
import { HeavyLock } from "../vm/runtime";

interface Options { setups: WordPressSetup[]; scenarios: Scenario[]; drills: number; json: string }

export function parseWordPressArgs(argv: string[]): Options {
    const { values } = parseCommandLine({
        args: argv,
        options: { setups: { type: "string" }, scenarios: { type: "string" }, drills: { type: "string" }, json: { type: "string" } },
    }, "npm run bench:wordpress -- [options] (see the top of bench/wordpress.ts)");
    const drills = countOption("drills", values.drills, 2, 50);
    if (drills < 1) throw new Error("--drills must be at least 1");
    return {
        setups: values.setups === undefined ? (Object.keys(WORDPRESS_SETUPS) as WordPressSetup[]) : listOf("setup", values.setups, Object.keys(WORDPRESS_SETUPS) as WordPressSetup[]),
        scenarios: values.scenarios === undefined ? ["crash", "host-loss", "planned-switchover"] : listOf("scenario", values.scenarios, Object.keys(SCENARIOS) as Scenario[]),
        drills,
        json: path.resolve(values.json ?? path.join(__dirname, "..", ".state", "bench", "wordpress.json")),
    };
}

interface Row extends ShopFigures { scenario: Scenario; failoverAfterMs?: number }

async function main(): Promise<number> {
    const options = parseWordPressArgs(process.argv.slice(2));
    const why = labUnavailableReason() ?? wordpressUnavailableReason();
    if (why) throw new Error(`the WordPress bench cannot run here: ${why}`);
    const log = (line: string) => console.error(`[bench:wordpress] ${line}`);
    const lock = await HeavyLock.acquire(process.env.REDIS_HA_HEAVY_LOCK ?? "/tmp/redis-ha-heavy.lock", 60 * 60 * 1000, log);
    const lab = await Lab.up({ stack: "lab", id: "bench-wp", overrides: { checkTimeoutSeconds: "90" }, log });
    const stop = () => {
        void lab.down().finally(() => process.exit(130));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const rows: Row[] = [];
    const steady: Array<{ setup: WordPressSetup; medianMs: number; p90Ms: number }> = [];
    let site: WordPressSite | undefined;
    try {
        site = await WordPressSite.create(lab);
        for (const setup of options.setups) {
            site.use(setup);
            // Without a fault: what each page pays for the setup (the drop-in asks the Sentinels on every page).
            const times: number[] = [];
            for (let n = 1; n <= 40; n++) {
                const view = await site.view(9, 100000 + n);
                if (!view.ok) throw new Error(`${setup}: a page failed without any fault: ${view.problem}`);
                if (n > 5) times.push(view.endedAt - view.startedAt); // after the opcache's file cache is warm
            }
            times.sort((a, b) => a - b);
            steady.push({ setup, medianMs: times[Math.floor(times.length / 2)], p90Ms: times[Math.floor(times.length * 0.9)] });
            log(`${setup}: page time without a fault: median ${steady[steady.length - 1].medianMs} ms, p90 ${steady[steady.length - 1].p90Ms} ms`);
            for (const scenario of options.scenarios) {
                for (let i = 0; i < options.drills; i++) {
                    const traffic = new ShopTraffic(site);
                    const drill = await runDrill(lab, scenario, { clients: [], traffic, log });
                    const row: Row = { ...traffic.figures(), scenario, failoverAfterMs: drill.failoverAfterMs };
                    rows.push(row);
                    log(`${setup} ${scenario} #${i + 1}: ${row.errorPages} error pages of ${row.views} (${row.withoutRedis} without Redis), slowest ${row.slowestMs} ms (failover after ${row.failoverAfterMs ?? "-"} ms), stale reads ${row.staleReads}, acked missing ${row.ackedMissing}, stale entries ${row.staleEntries}, flushes ${row.flushes}${row.problems.length ? `; ${row.problems.join(" | ")}` : ""}`);
                }
            }
        }
    } finally {
        site?.close();
        await lab.down();
        await lock.release();
    }
    fs.mkdirSync(path.dirname(options.json), { recursive: true });
    fs.writeFileSync(options.json, JSON.stringify({ steady, drills: rows }, null, 2));
    const table = [["SETUP", "DRILL", "PAGES", "ERROR PAGES", "WITHOUT REDIS", "SLOWEST PAGE", "FAILOVER AFTER", "STALE READS", "ACKED MISSING", "STALE ENTRIES", "FLUSHES"]];
    for (const setup of options.setups) {
        for (const scenario of options.scenarios) {
            const mine = rows.filter((r) => r.setup === setup && r.scenario === scenario);
            const sum = (f: (r: Row) => number) => mine.reduce((a, r) => a + f(r), 0);
            const range = (f: (r: Row) => number | undefined) => {
                const values = mine.map(f).filter((v): v is number => v !== undefined);
                return values.length ? `${(Math.min(...values) / 1000).toFixed(1)}-${(Math.max(...values) / 1000).toFixed(1)} s` : "-";
            };
            table.push([setup, `${scenario} x${mine.length}`, String(sum((r) => r.views)), String(sum((r) => r.errorPages)), String(sum((r) => r.withoutRedis)), range((r) => r.slowestMs), range((r) => r.failoverAfterMs),
                String(sum((r) => r.staleReads)), String(sum((r) => r.ackedMissing)), String(sum((r) => r.staleEntries)), String(sum((r) => r.flushes))]);
        }
    }
    console.log(formatTable(table));
    console.log(`\npage time without a fault (35 sequential views): ${steady.map((r) => `${r.setup} median ${r.medianMs} ms, p90 ${r.p90Ms} ms`).join("; ")}`);
    console.log(`\nsetups: ${options.setups.map((s) => `${s} = ${WORDPRESS_SETUPS[s].what}`).join("; ")}\nfigures: ${options.json}`);
    return 0;
}

if (require.main === module) runMain(main);
