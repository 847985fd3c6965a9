/**
 * A WordPress shop through the failovers a shop lives through, with what redis-ha ships:
 * `clients.wordpress` in wp-config.php and `clients.wordpressObjectCache` as the drop-in, Debian's
 * WordPress and MariaDB, the Redis Object Cache plugin 2.6.3 from ../shared/vendor. Three shoppers
 * view a page a second each, every view a fresh PHP process in the app namespace. The assertions
 * are what a shopper or a shop owner would notice: an error page, a cart read back without the last
 * change, a cache entry that disagrees with the database after recovery. Never a timing: the page
 * times are printed, and compared in `npm run bench:wordpress`.
 */
import * as fs from "fs";
import { DrillResult, Scenario, runDrill, waitFor } from "../../lab/drill";
import { Lab, labUnavailableReason } from "../../lab/runtime";
import { run } from "../../components/platforms/lab/shell";
import { WORDPRESS_OBJECT_CACHE } from "../../components/core/wordpressObjectCache";
import { OPERATOR_USER } from "../../components/core/aclUsers";
import { ShopFigures, ShopTraffic, WordPressSite, wordpressUnavailableReason } from "../../lab/wordpress";

const why = labUnavailableReason() ?? wordpressUnavailableReason();
if (why) console.warn(`\n!!! SKIPPED: the WordPress drills did NOT run: ${why} !!!\n`);
const maybe = why ? describe.skip : describe;

jest.setTimeout(240000);

maybe("WordPress with redis-ha's clients.wordpress and its object-cache drop-in", () => {
    const id = `w${process.pid.toString(36)}`;
    let lab: Lab;
    let site: WordPressSite;

    beforeAll(async () => {
        lab = await Lab.up({ stack: "lab", id, overrides: { checkTimeoutSeconds: "60" } });
        site = await WordPressSite.create(lab, "redis-ha");
    }, 180000);

    afterAll(async () => {
        site?.close();
        await lab?.down();
        expect(run(["ip", "netns", "list"]).stdout).not.toContain(`rha-${id}-`);
        if (lab) expect(fs.existsSync(lab.dir)).toBe(false);
    }, 60000);

    async function masterAddress(): Promise<string | undefined> {
        const check = await lab.check(30);
        return check.reports.find((r) => r.report)?.report?.agreedMaster;
    }

    /** How many reads (GET, MGET) each replica has served. */
    async function replicaReads(): Promise<number[]> {
        const master = await masterAddress();
        const replicas = lab.network.hosts.filter((h) => h.plan.redisRole && `${h.address}:${lab.settings.redisPort}` !== master);
        return Promise.all(replicas.map(async (h) => {
            const stats = (await lab.operatorCli(lab.network.app.namespace, h.address, ["INFO", "commandstats"])).stdout;
            return [...stats.matchAll(/^cmdstat_(?:get|mget):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
        }));
    }

    function report(what: string, f: ShopFigures, drill: DrillResult) {
        console.log(`${what}: ${f.errorPages} error pages of ${f.views}, slowest page ${f.slowestMs} ms (new master agreed after ${drill.failoverAfterMs ?? "-"} ms${drill.abortedElections ? `, ${drill.abortedElections} election(s) aborted for a split vote` : ""}), stale reads ${f.staleReads}, acknowledged cache writes missing ${f.ackedMissing}, stale entries ${f.staleEntries}, flushes ${f.flushes}${f.problems.length ? `; ${f.problems.join(" | ")}` : ""}`);
    }

    const shopperSees = (f: ShopFigures) => ({ errorPages: f.errorPages, staleReads: f.staleReads, ackedMissing: f.ackedMissing, staleEntries: f.staleEntries, problems: f.problems });
    const nothingWrong = { errorPages: 0, staleReads: 0, ackedMissing: 0, staleEntries: 0, problems: [] };

    test("pages use Redis through the Sentinels, and the Sentinel password is what lets them in", async () => {
        const page = await site.view(0, 1);
        expect(page).toMatchObject({ ok: true, ack: true, wrote: true });
        // Without it in the Sentinel URIs, the plugin's own error page, naming Sentinel's refusal.
        const refused = await site.view(0, 2, undefined, { REDIS_SENTINEL_PASSWORD: "" });
        expect(refused.ok).toBe(false);
        expect(refused.problem).toMatch(/^Error establishing a Redis connection: .*NOAUTH Authentication required/);
    });

    test("the plugin's Diagnostics tab shows admins the Sentinel URIs and redis-ha's drop-in, never a password", () => {
        const shown = site.diagnostics();
        expect(shown).toMatch(/^Status: Connected/m);
        expect(shown).toMatch(/^Drop-in: Valid/m);
        // The version the drop-in declares, so the plugin shows the file in place is the one this build ships.
        expect(shown).toContain(`redis-ha object cache v${/^ \* Version: (\S+)$/m.exec(WORDPRESS_OBJECT_CACHE)![1]} by redis-ha`);
        // 2.6.3 masks from the first "password=" on (its pattern is greedy): the other URIs are hidden too.
        expect(shown).toMatch(/^WP_REDIS_SERVERS: \[\s+&quot;tcp:\/\/[\d.]+:\d+\?password=\*\*\*\*\*/m);
        const { redisPassword, sentinelPassword } = lab.secrets;
        for (const secret of [redisPassword, sentinelPassword, encodeURIComponent(sentinelPassword)]) expect(shown).not.toContain(secret);
    });

    /** One page under a replication ID the cache was not written under flushes it; the next does not. */
    async function expectOneFlushAfterAMasterChange(n: number) {
        const [host, port] = (await masterAddress())!.split(":");
        const marker = await lab.redisCli(lab.network.app.namespace, host, Number(port), ["SET", "redis-ha:object-cache:replid", "a-master-before-this-one"], lab.secrets.redisPassword, OPERATOR_USER);
        expect(marker.stdout.trim()).toBe("OK");
        expect(await site.view(1, n)).toMatchObject({ ok: true, flushed: true });
        expect(await site.view(1, n + 1)).toMatchObject({ ok: true, flushed: false });
    }

    test("reads go to the master; WP_REDIS_HA_REPLICA_READS sends them to the replicas; both flush after a master change", async () => {
        const before = await replicaReads();
        for (let n = 10; n < 16; n++) expect((await site.view(n % 3, n)).ok).toBe(true);
        expect(await replicaReads()).toEqual(before);
        await expectOneFlushAfterAMasterChange(16);
        // The same pages with the opt-in: the replicas serve them, which is why it is off by default.
        site.use("redis-ha-replica-reads");
        try {
            for (let n = 20; n < 26; n++) expect((await site.view(n % 3, n)).ok).toBe(true);
            const after = await replicaReads();
            expect(after.reduce((a, b) => a + b, 0)).toBeGreaterThan(before.reduce((a, b) => a + b, 0));
            await expectOneFlushAfterAMasterChange(26);
        } finally {
            site.use("redis-ha");
        }
    });

    test("a write the master refuses for want of replicas (NOREPLICAS) waits for them and lands once one is back", async () => {
        const [address, port] = (await masterAddress())!.split(":");
        const master = lab.network.hosts.find((h) => h.address === address)!;
        const replicas = lab.network.hosts.filter((h) => h.plan.redisRole && h !== master);
        const info = async (section: string) => (await lab.redisCli(lab.network.app.namespace, address, Number(port), ["INFO", section], lab.secrets.redisPassword, OPERATOR_USER)).stdout;
        const refusals = async () => Number(/^errorstat_NOREPLICAS:count=(\d+)/m.exec(await info("errorstats"))?.[1] ?? 0);
        for (const r of replicas) await lab.stop(r.namespace, "redis");
        try {
            await waitFor("the master to have no good replica", async () => /^min_slaves_good_slaves:0/m.test(await info("replication")), 30000);
            const before = await refusals();
            // The page does not wait for replicas before it connects (that wait is another test's), so its
            // write meets NOREPLICAS; its in-flight wait is long enough for a replica to be brought back.
            const page = site.view(4, site.nextOrder(), undefined, { LAB_WP_REDIS_HA_MIN_REPLICAS: "0", LAB_WP_REDIS_HA_REPLICA_WAIT_MS: "60000" });
            await waitFor("the page's write to be refused for want of replicas", async () => (await refusals()) > before, 30000);
            await lab.start(replicas[0].namespace, "redis");
            expect(await page).toMatchObject({ ok: true, ack: true, wrote: true });
        } finally {
            for (const r of replicas) if (!lab.isRunning(r.namespace, "redis")) await lab.start(r.namespace, "redis");
        }
        const check = await lab.check(60);
        expect(check.failures).toEqual([]);
    });

    /** The shop through `scenario`: the drill's new master, and what the shoppers saw, printed. */
    async function shopThrough(scenario: Scenario): Promise<ShopFigures> {
        const traffic = new ShopTraffic(site, { holdOnePageAcrossTheFault: true });
        const drill = await runDrill(lab, scenario, { clients: [], traffic });
        const figures = traffic.figures();
        report(scenario, figures, drill);
        expect(drill.newMaster).not.toBe(drill.oldMaster);
        return figures;
    }

    test("master crash at 3 page views a second: no error page, no stale cart, one flush of the cache", async () => {
        const figures = await shopThrough("crash");
        expect(shopperSees(figures)).toEqual(nothingWrong);
        // The first page under the new master flushed what the old one may have acknowledged and lost; only that page.
        expect(figures.flushes).toBe(1);
    });

    test("host loss of the master: no error page, no stale cart", async () => {
        expect(shopperSees(await shopThrough("host-loss"))).toEqual(nothingWrong);
    });

    test("day 2: the planned switchover pulumi up runs before replacing the master host, with the shop open", async () => {
        expect(shopperSees(await shopThrough("planned-switchover"))).toEqual(nothingWrong);
    });
});
