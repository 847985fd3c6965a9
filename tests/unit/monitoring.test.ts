/**
 * The alert rules a stack outputs, judged by Prometheus's own `promtool`: `check rules` on the
 * rendered file, then `test rules` with series shaped as Debian's prometheus-redis-exporter exports
 * them (names and labels read off a real exporter in front of a real Redis and Sentinel). Every rule
 * has a case that fires it and one that must not: a healthy cluster fires nothing, a single failed
 * or slow scrape pages no one, and each alert names the node it is about.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { alertRules, renderAlertRules, renderAlertmanagerRoute, renderScrapeConfig, scrapeTargets, MonitoringInput } from "../../components/core/monitoring";
import { renderDashboard } from "../../components/core/dashboard";

const promtool = spawnSync("promtool", ["--version"]).status === 0;
if (!promtool) console.warn("\n!!! SKIPPED: promtool tests did NOT run: promtool is not installed (npm run setup installs Debian's prometheus) !!!\n");
const withPromtool = promtool ? describe : describe.skip;

const INPUT: MonitoringInput = {
    deployment: "shop",
    masterName: "redis-ha",
    quorum: 2,
    replicaCount: 2,
    maxLagSeconds: 3,
    hosts: [0, 1, 2].map((i) => ({ name: `shop-redis-${i}`, zone: `zone-${i}`, address: `10.42.0.${11 + i}`, redis: true, sentinel: true })),
};

// 30 minutes of scrapes, every 15 s.
const SAMPLES = 120;
type Labels = Record<string, string>;
const target = (i: number, service: "redis" | "sentinel"): Labels => ({
    deployment: "shop", host: `shop-redis-${i}`, zone: `zone-${i}`, service,
    instance: `10.42.0.${11 + i}:${service === "redis" ? 9121 : 9122}`, job: "redis-ha-shop",
});
const R = (i: number) => target(i, "redis");
const S = (i: number) => target(i, "sentinel");
const steady = (value: number | string) => `${value}x${SAMPLES}`;
/** `first` for `n` scrapes, then `then` until the end. */
const turns = (first: number | string, n: number, then: number | string) => `${first}x${n - 1} ${then}x${SAMPLES - n}`;
/** The series stops being exported after `n` scrapes (Prometheus marks it stale). */
const gone = (value: number | string, n: number) => `${value}x${n - 1} stale`;
/** One scrape, at 15m, differs; the rest is `value`. */
const blip = (value: number | string, other: number | string) => `${value}x59 ${other} ${value}x${SAMPLES - 61}`;
/** Around that scrape, and long enough after it for any `for` to have run out. */
const AROUND_BLIP = ["15m", "15m15s", "15m30s", "18m"];

class Series {
    private readonly all = new Map<string, { name: string; labels: Labels; values: string }>();
    private key(name: string, labels: Labels): string {
        return `${name}{${Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(",")}}`;
    }
    set(name: string, labels: Labels, values: string): this {
        this.all.set(this.key(name, labels), { name, labels, values });
        return this;
    }
    drop(name: string, labels: Labels): this {
        if (!this.all.delete(this.key(name, labels))) throw new Error(`no series ${this.key(name, labels)} to drop`);
        return this;
    }
    get input() {
        return [...this.all.values()].map((s) => ({ series: this.key(s.name, s.labels), values: s.values }));
    }
}

const MASTER = "10.42.0.11:6379";
const sentinelStatus = (i: number, address = MASTER) => ({ ...S(i), master_address: address, master_name: "redis-ha", master_status: "ok" });
const okSentinels = (i: number) => ({ ...S(i), master_address: MASTER, master_name: "redis-ha" });
const ckquorum = (i: number) => ({ ...S(i), master_name: "redis-ha", message: "OK 3 usable Sentinels. Quorum and failover authorization can be reached" });
const instanceInfo = (i: number, role: "master" | "slave") => ({ ...R(i), redis_mode: "standalone", redis_version: "7.0.15", role, tcp_port: "6379" });
const linkUp = (i: number) => ({ ...R(i), master_host: "10.42.0.11", master_port: "6379" });
const replicaOf = (i: number) => ({ ...R(0), slave_ip: `10.42.0.${11 + i}`, slave_port: "6379", slave_state: "online" });

/** A healthy cluster: shop-redis-0 the master, 1 and 2 its replicas, a Sentinel on each. */
function healthy(): Series {
    const s = new Series();
    for (const i of [0, 1, 2]) {
        s.set("up", R(i), steady(1)).set("redis_up", R(i), steady(1))
            .set("redis_instance_info", instanceInfo(i, i === 0 ? "master" : "slave"), steady(1))
            .set("redis_connected_slaves", R(i), steady(i === 0 ? 2 : 0))
            .set("redis_master_repl_offset", R(i), `1000+5000x${SAMPLES}`)
            .set("redis_memory_used_bytes", R(i), steady(50e6)).set("redis_memory_max_bytes", R(i), steady(100e6))
            .set("redis_rejected_connections_total", R(i), steady(0))
            // A few errors and refused logins, as a live shop has (a stray client, a failover's NOREPLICAS).
            .set("redis_errors_total", { ...R(i), err: "NOREPLICAS" }, `0+1x${SAMPLES}`)
            .set("redis_errors_total", { ...R(i), err: "NOAUTH" }, `0+1x${SAMPLES}`)
            .set("redis_rdb_last_bgsave_status", R(i), steady(1)).set("redis_aof_last_write_status", R(i), steady(1)).set("redis_aof_last_bgrewrite_status", R(i), steady(1));
        if (i > 0) {
            s.set("redis_master_link_up", linkUp(i), steady(1))
                .set("redis_connected_slave_lag_seconds", replicaOf(i), steady(0))
                .set("redis_connected_slave_offset_bytes", replicaOf(i), `1000+5000x${SAMPLES}`);
        }
        s.set("up", S(i), steady(1)).set("redis_up", S(i), steady(1))
            .set("redis_sentinel_master_status", sentinelStatus(i), steady(1))
            .set("redis_sentinel_master_ok_sentinels", okSentinels(i), steady(3))
            .set("redis_sentinel_master_ckquorum_status", ckquorum(i), steady(1))
            .set("redis_sentinel_tilt", S(i), steady(0))
            .set("redis_rejected_connections_total", S(i), steady(0));
    }
    return s;
}

interface Case {
    name: string;
    alert: string;
    series: Series;
    /** When to look (Go durations); default 25m. */
    at?: string[];
    /** The alerts expected then: the labels each carries besides alertname. Empty: must not fire. */
    expect: Labels[];
}

const critical = (labels: Labels = {}) => ({ deployment: "shop", severity: "critical", ...labels });
const warning = (labels: Labels = {}) => ({ deployment: "shop", severity: "warning", ...labels });

/** Two Sentinels gone after 20 scrapes: the one left sees only itself, and CKQUORUM fails. */
function twoSentinelsLost(): Series {
    const s = healthy();
    for (const i of [1, 2]) {
        s.set("up", S(i), turns(1, 20, 0))
            .set("redis_sentinel_master_status", sentinelStatus(i), gone(1, 20))
            .set("redis_sentinel_master_ok_sentinels", okSentinels(i), gone(3, 20))
            .set("redis_sentinel_master_ckquorum_status", ckquorum(i), gone(1, 20))
            .set("redis_sentinel_tilt", S(i), gone(0, 20)).set("redis_up", S(i), gone(1, 20))
            .set("redis_rejected_connections_total", S(i), gone(0, 20));
    }
    s.set("redis_sentinel_master_ok_sentinels", okSentinels(0), turns(3, 20, 1))
        .set("redis_sentinel_master_ckquorum_status", ckquorum(0), gone(1, 20))
        .set("redis_sentinel_master_ckquorum_status", { ...ckquorum(0), message: "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. Not enough available Sentinels to reach the majority and authorize a failover" }, `_x19 0x${SAMPLES - 20}`);
    return s;
}

/** The master crashes after 20 scrapes; the Sentinels promote shop-redis-1 a scrape later. */
function failover(): Series {
    const s = healthy();
    s.set("redis_up", R(0), turns(1, 20, 0))
        .set("redis_instance_info", instanceInfo(0, "master"), gone(1, 20))
        .set("redis_instance_info", instanceInfo(1, "slave"), gone(1, 21))
        .set("redis_instance_info", instanceInfo(1, "master"), `_x21 1x${SAMPLES - 22}`);
    for (const i of [0, 1, 2]) {
        s.set("redis_sentinel_master_status", sentinelStatus(i), gone(1, 21))
            .set("redis_sentinel_master_status", sentinelStatus(i, "10.42.0.12:6379"), `_x21 1x${SAMPLES - 22}`);
    }
    return s;
}

const CASES: Case[] = [
    // A healthy cluster, at several moments: nothing at all fires (checked for every rule below).
    { name: "healthy", alert: "*", series: healthy(), expect: [] },

    { name: "the master is gone and nobody was promoted", alert: "RedisHaNoMaster", series: healthy().set("redis_up", R(0), turns(1, 20, 0)).set("redis_instance_info", instanceInfo(0, "master"), gone(1, 20)), expect: [critical()] },
    { name: "a failover: one scrape without a master", alert: "RedisHaNoMaster", at: ["5m", "5m15s", "5m30s", "6m"], series: failover(), expect: [] },
    { name: "one failed scrape of the master", alert: "RedisHaNoMaster", at: AROUND_BLIP, series: healthy().set("up", R(0), blip(1, 0)).set("redis_instance_info", instanceInfo(0, "master"), `1x59 stale 1x${SAMPLES - 61}`), expect: [] },

    { name: "a second master for good", alert: "RedisHaSeveralMasters", series: healthy().set("redis_instance_info", instanceInfo(2, "slave"), gone(1, 20)).set("redis_instance_info", instanceInfo(2, "master"), `_x20 1x${SAMPLES - 21}`), expect: [critical()] },
    { name: "an old master back for a scrape before Sentinel converts it", alert: "RedisHaSeveralMasters", at: ["15m", "15m15s", "15m30s", "17m"], series: failover().set("redis_instance_info", instanceInfo(0, "master"), `1x19 stale _x39 1 stale`), expect: [] },

    { name: "one Sentinel names another master for good", alert: "RedisHaSentinelsDisagree", series: healthy().set("redis_sentinel_master_status", sentinelStatus(2), gone(1, 20)).set("redis_sentinel_master_status", sentinelStatus(2, "10.42.0.13:6379"), `_x20 1x${SAMPLES - 21}`), expect: [critical()] },
    { name: "the Sentinels switch together in a failover", alert: "RedisHaSentinelsDisagree", at: ["5m15s", "5m30s", "8m"], series: failover(), expect: [] },

    { name: "a failover, naming the new master", alert: "RedisHaFailover", at: ["6m", "8m", "15m"], series: failover(), expect: [warning({ master_address: "10.42.0.12:6379" })] },
    { name: "the failover alert clears after its window", alert: "RedisHaFailover", at: ["16m", "25m"], series: failover(), expect: [] },

    { name: "two of three Sentinels lost", alert: "RedisHaQuorumAtRisk", series: twoSentinelsLost(), expect: [critical({ ...S(0), master_name: "redis-ha" })] },
    { name: "one of three Sentinels lost: the quorum of 2 holds", alert: "RedisHaQuorumAtRisk", series: healthy().set("up", S(2), turns(1, 20, 0)).set("redis_sentinel_master_ok_sentinels", okSentinels(0), turns(3, 20, 2)).set("redis_sentinel_master_ok_sentinels", okSentinels(1), turns(3, 20, 2)), expect: [] },

    { name: "a replica's Redis down", alert: "RedisHaRedisDown", series: healthy().set("redis_up", R(2), turns(1, 20, 0)), expect: [critical(R(2))] },
    { name: "one scrape that timed out on Redis", alert: "RedisHaRedisDown", series: healthy().set("redis_up", R(2), blip(1, 0)), at: AROUND_BLIP, expect: [] },

    { name: "a Sentinel down", alert: "RedisHaSentinelDown", series: healthy().set("redis_up", S(1), turns(1, 20, 0)), expect: [warning(S(1))] },
    { name: "one scrape that timed out on Sentinel", alert: "RedisHaSentinelDown", at: AROUND_BLIP, series: healthy().set("redis_up", S(1), blip(1, 0)), expect: [] },

    { name: "a host's exporter unreachable", alert: "RedisHaExporterDown", series: healthy().set("up", R(1), turns(1, 20, 0)), expect: [warning(R(1))] },
    { name: "one failed scrape", alert: "RedisHaExporterDown", at: AROUND_BLIP, series: healthy().set("up", R(1), blip(1, 0)), expect: [] },

    { name: "a replica lost its master", alert: "RedisHaReplicaLinkDown", series: healthy().set("redis_master_link_up", linkUp(2), turns(1, 20, 0)), expect: [critical(linkUp(2))] },
    { name: "a replica's link flapped once", alert: "RedisHaReplicaLinkDown", at: AROUND_BLIP, series: healthy().set("redis_master_link_up", linkUp(2), blip(1, 0)), expect: [] },

    { name: "the master has one of two replicas", alert: "RedisHaReplicasMissing", series: healthy().set("redis_connected_slaves", R(0), turns(2, 20, 1)), expect: [warning({ ...R(0) })] },
    { name: "replicas have no replicas of their own", alert: "RedisHaReplicasMissing", series: healthy(), expect: [] },

    { name: "a replica silent for 10 s", alert: "RedisHaReplicationLagSeconds", series: healthy().set("redis_connected_slave_lag_seconds", replicaOf(2), turns(0, 20, 10)), expect: [warning(replicaOf(2))] },
    { name: "one scrape with lag", alert: "RedisHaReplicationLagSeconds", at: AROUND_BLIP, series: healthy().set("redis_connected_slave_lag_seconds", replicaOf(2), blip(0, 10)), expect: [] },

    { name: "a replica stuck megabytes behind while the other keeps up", alert: "RedisHaReplicationLagBytes", series: healthy().set("redis_connected_slave_offset_bytes", replicaOf(1), `1000+5000x19 96000-0x${SAMPLES - 20}`).set("redis_master_repl_offset", R(0), `1000+5000x19 96000+100000x${SAMPLES - 20}`).set("redis_connected_slave_offset_bytes", replicaOf(2), `1000+5000x19 96000+100000x${SAMPLES - 20}`), expect: [warning(replicaOf(1))] },
    { name: "replicas a write or two behind", alert: "RedisHaReplicationLagBytes", series: healthy().set("redis_master_repl_offset", R(0), `1500+5000x${SAMPLES}`), expect: [] },

    { name: "a Sentinel in TILT", alert: "RedisHaSentinelTilt", at: ["5m15s"], series: healthy().set("redis_sentinel_tilt", S(1), `0x20 1x2 0x${SAMPLES - 24}`), expect: [warning(S(1))] },

    { name: "Redis at 95% of maxmemory", alert: "RedisHaMemoryNearLimit", series: healthy().set("redis_memory_used_bytes", R(0), turns(50e6, 20, 95e6)), expect: [warning(R(0))] },
    { name: "no maxmemory set (0): never near it", alert: "RedisHaMemoryNearLimit", series: healthy().set("redis_memory_max_bytes", R(0), steady(0)).set("redis_memory_used_bytes", R(0), steady(8e9)), expect: [] },

    { name: "connections refused at maxclients", alert: "RedisHaRejectedConnections", at: ["10m"], series: healthy().set("redis_rejected_connections_total", R(0), `0x30 5x${SAMPLES - 31}`), expect: [warning(R(0))] },

    { name: "NOREPLICAS answered 10 times a second", alert: "RedisHaErrorReplies", series: healthy().set("redis_errors_total", { ...R(0), err: "NOREPLICAS" }, `0+150x${SAMPLES}`), expect: [warning(R(0))] },
    { name: "refused logins do not count as errors", alert: "RedisHaErrorReplies", series: healthy().set("redis_errors_total", { ...R(0), err: "WRONGPASS" }, `0+150x${SAMPLES}`), expect: [] },

    { name: "a client with an old password", alert: "RedisHaAuthFailures", series: healthy().set("redis_errors_total", { ...R(1), err: "WRONGPASS" }, `0+150x${SAMPLES}`), expect: [warning(R(1))] },

    { name: "the AOF cannot be written", alert: "RedisHaPersistenceFailing", series: healthy().set("redis_aof_last_write_status", R(1), turns(1, 20, 0)), expect: [critical(R(1))] },
    { name: "a snapshot failed once and the next succeeded", alert: "RedisHaPersistenceFailing", at: AROUND_BLIP, series: healthy().set("redis_rdb_last_bgsave_status", R(1), blip(1, 0)), expect: [] },
];

function promtoolRun(args: string[], cwd: string) {
    const result = spawnSync("promtool", args, { cwd, encoding: "utf8", timeout: 60000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

withPromtool("alert rules under promtool", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-rules-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const names = alertRules(INPUT).map((r) => r.alert);

    test("promtool check rules accepts the rendered file", () => {
        fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(INPUT));
        const result = promtoolRun(["check", "rules", "rules.yml"], dir);
        expect(result.output).toContain(`SUCCESS: ${names.length} rules found`);
        expect(result.status).toBe(0);
    });

    test("every rule has a case that fires it and one where it must not", () => {
        for (const name of names) {
            expect([name, CASES.some((c) => c.alert === name && c.expect.length > 0)]).toEqual([name, true]);
            expect([name, CASES.some((c) => (c.alert === name || c.alert === "*") && c.expect.length === 0)]).toEqual([name, true]);
        }
        expect(CASES.filter((c) => c.alert !== "*" && !names.includes(c.alert))).toEqual([]);
    });

    test.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
        // Annotations are left out of what promtool compares (it would compare their text exactly);
        // `check rules` above parses their templates.
        const rules = parse(renderAlertRules(INPUT));
        for (const rule of rules.groups[0].rules) delete rule.annotations;
        fs.writeFileSync(path.join(dir, "rules-no-annotations.yml"), stringify(rules));
        const alerts = c.alert === "*" ? names : [c.alert];
        const times = c.alert === "*" ? ["1m", "10m", "29m"] : c.at ?? ["25m"];
        const test = {
            rule_files: ["rules-no-annotations.yml"],
            evaluation_interval: "15s",
            tests: [{
                interval: "15s",
                input_series: c.series.input,
                alert_rule_test: times.flatMap((eval_time) => alerts.map((alertname) => ({ eval_time, alertname, exp_alerts: c.expect.map((labels) => ({ exp_labels: labels })) }))),
            }],
        };
        const file = `case-${CASES.indexOf(c)}.yml`;
        fs.writeFileSync(path.join(dir, file), stringify(test, { lineWidth: 0 }));
        const result = promtoolRun(["test", "rules", file], dir);
        expect(result.output).toContain("SUCCESS");
        expect(result.status).toBe(0);
    });
});

describe("scrape targets, prometheus.yml and the Alertmanager route", () => {
    test("one target per exporter, on each host's private address, labelled with the deployment, host, zone and service", () => {
        const dedicated: MonitoringInput = { ...INPUT, hosts: [...INPUT.hosts.map((h) => ({ ...h, sentinel: false })), { name: "shop-sentinel-0", zone: "zone-0", address: "10.42.0.21", redis: false, sentinel: true }] };
        expect(scrapeTargets(dedicated).map((t) => [t.target, t.labels.host, t.labels.service])).toEqual([
            ["10.42.0.11:9121", "shop-redis-0", "redis"],
            ["10.42.0.12:9121", "shop-redis-1", "redis"],
            ["10.42.0.13:9121", "shop-redis-2", "redis"],
            ["10.42.0.21:9122", "shop-sentinel-0", "sentinel"],
        ]);
    });

    test("the scrape config is a valid prometheus.yml with the targets and their labels", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-prom-"));
        try {
            const fragment = parse(renderScrapeConfig(INPUT));
            fs.writeFileSync(path.join(dir, "prometheus.yml"), stringify({ global: { evaluation_interval: "15s" }, rule_files: ["rules.yml"], ...fragment }));
            fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(INPUT));
            if (promtool) {
                const result = promtoolRun(["check", "config", "prometheus.yml"], dir);
                expect(result.output).toContain("SUCCESS");
                expect(result.status).toBe(0);
            }
            expect(fragment.scrape_configs[0].static_configs).toHaveLength(6);
            expect(fragment.scrape_configs[0].static_configs[0]).toEqual({ targets: ["10.42.0.11:9121"], labels: { deployment: "shop", host: "shop-redis-0", zone: "zone-0", service: "redis" } });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("two deployments' rules select only their own series", () => {
        for (const rule of alertRules({ ...INPUT, deployment: "blog" })) {
            const selectors = rule.expr.match(/\{[^}]*\}/g) ?? [];
            expect([rule.alert, selectors.length > 0 && selectors.every((s) => s.includes('deployment="blog"'))]).toEqual([rule.alert, true]);
            expect(rule.labels.deployment).toBe("blog");
        }
    });

    test("the Grafana dashboard defaults to the deployment and every panel's query selects on it (the lab checks each has data)", () => {
        const dashboard = JSON.parse(renderDashboard({ deployment: "shop" }));
        expect(dashboard.templating.list[0]).toMatchObject({ name: "deployment", current: { value: "shop" } });
        expect(dashboard.uid).toBe("redis-ha-shop");
        const exprs: string[] = dashboard.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr));
        expect(exprs.length).toBeGreaterThanOrEqual(12);
        for (const expr of exprs) expect([expr, (expr.match(/\{[^}]*\}/g) ?? []).every((sel) => sel.includes('deployment="$deployment"'))]).toEqual([expr, true]);
    });

    test("the Alertmanager route sends the deployment's critical alerts to a pager and the rest to tickets", () => {
        const route = parse(renderAlertmanagerRoute(INPUT));
        expect(route.route.routes[0].matchers).toEqual(['deployment="shop"']);
        expect(route.route.routes[0].routes[0]).toEqual({ matchers: ['severity="critical"'], receiver: "redis-ha-shop-pager" });
        expect(route.receivers.map((r: { name: string }) => r.name)).toEqual(["redis-ha-shop-pager", "redis-ha-shop-tickets"]);
    });
});
