/**
 * The alerts against real failures: a lab whose admin namespace runs Debian's Prometheus with the
 * scrape config and the alert rules the stack outputs (lab/prometheus.ts: only the timings are
 * shorter), scraping each node's real exporters through the firewall. What is asserted is what
 * Prometheus's own API says, /api/v1/alerts: a healthy lab fires nothing; each fault fires the alert
 * that names it, on the right node; every alert clears once the fault is repaired. And every panel
 * of the Grafana dashboard has data.
 */
import * as fs from "fs";
import { sentinelClientPassword } from "../../components/core/aclUsers";
import { dashboardPanels } from "../../components/core/dashboard";
import { sleep } from "../../components/platforms/lab/shell";
import { waitFor } from "../../lab/drill";
import { LabPrometheus, prometheusUnavailableReason } from "../../lab/prometheus";
import { Lab, labUnavailableReason } from "../../lab/runtime";

const why = labUnavailableReason() ?? prometheusUnavailableReason();
if (why) console.warn(`\n!!! SKIPPED: the monitoring drills did NOT run: ${why} !!!\n`);
const maybe = why ? describe.skip : describe;

jest.setTimeout(180000);

maybe("the lab watched by its own Prometheus", () => {
    const id = `m${process.pid.toString(36)}`;
    let lab: Lab;
    let prometheus: LabPrometheus;
    const deployment = () => prometheus.input.deployment;
    const sentinelAnswer = async (via: number) =>
        (await lab.redisCli(lab.network.app.namespace, lab.network.hosts[via].address, lab.settings.sentinelPort, ["SENTINEL", "get-master-addr-by-name", lab.settings.masterName], sentinelClientPassword(lab.secrets.sentinelPassword))).stdout.trim().split("\n").join(":");

    beforeAll(async () => {
        lab = await Lab.up({ stack: "lab", id, overrides: { checkTimeoutSeconds: "60" } });
        prometheus = await LabPrometheus.start(lab);
        // Every exporter scraped, through the firewall, with its process up.
        const targets = lab.network.hosts.length * 2;
        let up: Array<{ labels: Record<string, string>; value: number }> = [];
        await waitFor("Prometheus to scrape every exporter", async () => (up = await prometheus.query(`redis_up{deployment="${deployment()}"} == 1`)).length === targets, 60000,
            () => `${up.length} of ${targets} report redis_up 1; ${prometheus.logTail()}`);
        // What Prometheus concluded before it had scraped them all (a moment with no master yet) is gone at its next evaluation.
        await prometheus.waitForEvaluationAfter(Date.now());
    }, 180000);

    afterAll(async () => {
        prometheus?.stop();
        await lab?.down();
        if (lab) expect(fs.existsSync(lab.dir)).toBe(false);
    }, 60000);

    test("a healthy lab fires nothing, for 10 evaluation rounds", async () => {
        // Firing, not pending: one scrape that a busy machine makes slow may start a rule's `for`,
        // which is exactly what the `for` is there to absorb.
        for (let round = 0; round < 10; round++) {
            expect((await prometheus.alerts()).filter((a) => a.state === "firing")).toEqual([]);
            await sleep(1000);
        }
    });

    test("every panel of the dashboard has data", async () => {
        for (const panel of dashboardPanels()) {
            for (const target of panel.targets) {
                // Rates need two scrapes in their window: bounded, so a query that never has data fails.
                let series = 0;
                await waitFor(`"${panel.title}" to have data`, async () => (series = (await prometheus.query(target.expr.replace(/\$deployment/g, deployment()))).length) > 0, 30000).catch(() => undefined);
                expect({ panel: panel.title, expr: target.expr, series: series > 0 }).toEqual({ panel: panel.title, expr: target.expr, series: true });
            }
        }
    });

    test("a replica down fires RedisHaRedisDown naming it, and RedisHaReplicasMissing naming the master; both clear once it is back", async () => {
        const master = await sentinelAnswer(0);
        const [masterHost, replica] = [lab.network.hosts.find((h) => `${h.address}:${lab.settings.redisPort}` === master)!, lab.network.hosts.find((h) => `${h.address}:${lab.settings.redisPort}` !== master)!];
        await lab.stop(replica.namespace, "redis");
        try {
            await prometheus.waitForFiring("RedisHaRedisDown", { host: replica.namespace, deployment: deployment() });
            await prometheus.waitForFiring("RedisHaReplicasMissing", { host: masterHost.namespace });
        } finally {
            await lab.start(replica.namespace, "redis");
        }
        await prometheus.waitForQuiet();
    });

    test("two Sentinels down fire RedisHaQuorumAtRisk on the one left; it clears once they are back", async () => {
        const [left, ...lost] = lab.network.hosts.filter((h) => h.plan.sentinel);
        for (const s of lost) await lab.stop(s.namespace, "sentinel");
        try {
            const firing = await prometheus.waitForFiring("RedisHaQuorumAtRisk", { host: left.namespace, master_name: lab.settings.masterName });
            // Only the Sentinel that is left can say so: the lost ones say nothing at all.
            expect(firing.filter((a) => a.labels.alertname === "RedisHaQuorumAtRisk").map((a) => a.labels.host)).toEqual([left.namespace]);
            for (const s of lost) await prometheus.waitForFiring("RedisHaSentinelDown", { host: s.namespace });
        } finally {
            for (const s of lost) await lab.start(s.namespace, "sentinel");
        }
        await prometheus.waitForQuiet();
    });

    test("a master crash fires RedisHaFailover naming the new master, and nothing that pages; it clears after its window", async () => {
        const before = await sentinelAnswer(0);
        const oldHost = lab.network.hosts.find((h) => `${h.address}:${lab.settings.redisPort}` === before)!;
        await lab.stop(oldHost.namespace, "redis");
        let after = before;
        await waitFor("the Sentinels to name a new master", async () => (after = await sentinelAnswer(1)) !== before && after !== "", 60000);
        const firing = await prometheus.waitForFiring("RedisHaFailover", { master_address: after, deployment: deployment() });
        // A failover that worked is no emergency: no master was missing long enough to page.
        expect(firing.filter((a) => a.labels.alertname === "RedisHaNoMaster")).toEqual([]);
        await lab.start(oldHost.namespace, "redis");
        await prometheus.waitForQuiet();
    });
});
