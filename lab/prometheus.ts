/**
 * The lab watches itself: Debian's Prometheus in the lab's admin namespace (inside adminCidrs, so
 * inside the default monitoringCidrs), scraping every exporter through the hosts' firewalls with the
 * scrape config and the alert rules the stack outputs. Only the timings differ (LAB_ALERT_TIMING): a
 * scrape every 2 s and rules that hold for seconds, so the drills see alerts fire within seconds.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { AlertTiming, MonitoringInput, renderAlertRules, renderScrapeConfig } from "../components/core/monitoring";
import { commandExists } from "../components/platforms/lab/shell";
import { PROMETHEUS_BINARY, PROMETHEUS_PORT, prometheusArgv, writePrometheusConfig } from "../components/platforms/lab/prometheus";
import type { Lab } from "./runtime";
import { waitFor } from "./drill";


/** The stack's rules with the lab's clock: what holds for 2 minutes on a cloud holds for 6 s here. */
export const LAB_ALERT_TIMING: AlertTiming = { urgent: "4s", sustained: "6s", failoverWindow: "30s", rateWindow: "20s" };
const SCRAPE_INTERVAL_SECONDS = 2;

export interface LabAlert {
    labels: Record<string, string>;
    state: "pending" | "firing";
}

export function prometheusUnavailableReason(): string | undefined {
    return commandExists(PROMETHEUS_BINARY) ? undefined : `${PROMETHEUS_BINARY} is not installed; run \`npm run setup\` (Debian's prometheus)`;
}

/** What the stack would output for the lab's deployment. */
export function labMonitoringInput(lab: Lab): MonitoringInput {
    return {
        deployment: `lab-${lab.id}`,
        masterName: lab.settings.masterName,
        quorum: lab.plan.quorum,
        replicaCount: lab.plan.replicas.length,
        maxLagSeconds: lab.settings.minReplicasMaxLag,
        hosts: lab.network.hosts.map((h) => ({ name: h.namespace, zone: h.plan.zone, address: h.address, redis: Boolean(h.plan.redisRole), sentinel: h.plan.sentinel })),
        scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
        timing: LAB_ALERT_TIMING,
    };
}

export class LabPrometheus {
    private constructor(private readonly lab: Lab, readonly dir: string, readonly input: MonitoringInput, private readonly child: ChildProcess) {}

    get url(): string { return `http://${this.lab.network.admin.address}:${PROMETHEUS_PORT}`; }

    static async start(lab: Lab): Promise<LabPrometheus> {
        const dir = path.join(lab.dir, "prometheus");
        const input = labMonitoringInput(lab);
        writePrometheusConfig(dir, { scrapeConfig: renderScrapeConfig(input), alertRules: renderAlertRules(input) }, { scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`, evaluation_interval: "1s" });
        // As root, unlike Debian's unit (user prometheus): its files sit in the lab's root-only state directory.
        const log = fs.openSync(path.join(dir, "prometheus.log"), "a");
        const child = spawn("ip", ["netns", "exec", lab.network.admin.namespace, ...prometheusArgv(dir, lab.network.admin.address)], { stdio: ["ignore", log, log] });
        fs.closeSync(log);
        const prometheus = new LabPrometheus(lab, dir, input, child);
        try {
            await waitFor("the lab's Prometheus to answer", async () => (await prometheus.get("/-/ready")).ok, 60000, () => prometheus.logTail());
        } catch (e) {
            prometheus.stop();
            throw e;
        }
        return prometheus;
    }

    private async get(pathAndQuery: string): Promise<{ ok: boolean; body: string }> {
        const result = await this.lab.exec(this.lab.network.admin.namespace, ["curl", "-sS", "--max-time", "5", "-g", `${this.url}${pathAndQuery}`], { timeoutMs: 10000 });
        return { ok: result.status === 0, body: result.stdout };
    }

    /** An instant query: each series' labels and value. */
    async query(expr: string): Promise<Array<{ labels: Record<string, string>; value: number }>> {
        const answer = await this.get(`/api/v1/query?query=${encodeURIComponent(expr)}`);
        const parsed = JSON.parse(answer.body || "{}");
        if (parsed.status !== "success") throw new Error(`Prometheus refused ${expr}: ${answer.body.slice(0, 300)}`);
        return parsed.data.result.map((r: { metric: Record<string, string>; value: [number, string] }) => ({ labels: r.metric, value: Number(r.value[1]) }));
    }

    /** The alerts pending or firing now, from Prometheus's own API. */
    async alerts(): Promise<LabAlert[]> {
        const parsed = JSON.parse((await this.get("/api/v1/alerts")).body || "{}");
        if (parsed.status !== "success") throw new Error("Prometheus did not list its alerts");
        return parsed.data.alerts.map((a: LabAlert) => ({ labels: a.labels, state: a.state }));
    }

    /** Waits (bounded) until the alert rules have been evaluated on data newer than `sinceMs`. */
    async waitForEvaluationAfter(sinceMs: number, timeoutMs = 30000): Promise<void> {
        await waitFor("the alert rules to be evaluated again", async () => {
            const parsed = JSON.parse((await this.get("/api/v1/rules")).body || "{}");
            const groups: Array<{ lastEvaluation: string }> = parsed.data?.groups ?? [];
            return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > sinceMs);
        }, timeoutMs);
    }

    /** Waits (bounded) until `name` fires with labels including `labels`; returns every firing alert then. */
    async waitForFiring(name: string, labels: Record<string, string>, timeoutMs = 60000): Promise<LabAlert[]> {
        let seen: LabAlert[] = [];
        const matches = (a: LabAlert) => a.state === "firing" && a.labels.alertname === name && Object.entries(labels).every(([k, v]) => a.labels[k] === v);
        await waitFor(`${name} ${JSON.stringify(labels)} to fire`, async () => (seen = await this.alerts()).some(matches), timeoutMs,
            () => `alerts now: ${JSON.stringify(seen.map((a) => ({ ...a.labels, state: a.state })))}`);
        return seen.filter((a) => a.state === "firing");
    }

    /** Waits (bounded) until nothing is pending or firing. */
    async waitForQuiet(timeoutMs = 90000): Promise<void> {
        let seen: LabAlert[] = [];
        await waitFor("every alert to clear", async () => (seen = await this.alerts()).length === 0, timeoutMs,
            () => `still: ${JSON.stringify(seen.map((a) => ({ alertname: a.labels.alertname, host: a.labels.host, state: a.state })))}`);
    }

    logTail(): string {
        const file = path.join(this.dir, "prometheus.log");
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").slice(-5).join("\n") : "no log";
    }

    stop(): void {
        if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    }
}
