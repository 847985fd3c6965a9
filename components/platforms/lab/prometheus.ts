/**
 * The lab stack's own Prometheus (Debian's package), in the lab's admin namespace: inside
 * adminCidrs and so inside the default monitoringCidrs, it scrapes every exporter through the
 * hosts' firewalls with exactly the scrape config and alert rules the stack outputs as `monitoring`.
 * The engine creates it after the hosts, reloads it when the deployment's targets or rules change
 * (a replica added or removed), and deletes it before the network. Each step is read back: the
 * targets and rules Prometheus reports must be the ones it was given.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import type { LabSpec } from "./machine";
import { processAlive, writeFileAs } from "./machine";
import { run, sleep } from "./shell";

export const PROMETHEUS_BINARY = "/usr/bin/prometheus";
export const PROMETHEUS_PORT = 9090;

/** What the stack hands its lab's Prometheus: the `monitoring` output's scrape config and rules. */
export interface LabPrometheusConfig {
    /** A `scrape_configs:` fragment (MonitoringOutputs.prometheusScrapeConfig). */
    scrapeConfig: string;
    /** A rules file (MonitoringOutputs.alertRules). */
    alertRules: string;
}

export const labPrometheusDir = (spec: Pick<LabSpec, "dir">) => path.join(spec.dir, "prometheus");
const pidFile = (spec: Pick<LabSpec, "dir">) => path.join(labPrometheusDir(spec), "pid");
export const labPrometheusUrl = (spec: Pick<LabSpec, "network">) => `http://${spec.network.admin.address}:${PROMETHEUS_PORT}`;

/** Prometheus's command line for a config in `dir`, listening on `address` only. */
export function prometheusArgv(dir: string, address: string): string[] {
    return [PROMETHEUS_BINARY, `--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=${address}:${PROMETHEUS_PORT}`, "--storage.tsdb.retention.time=1d"];
}

/**
 * Writes `dir`'s prometheus.yml (the scrape config, the rules file and `global`) and rules.yml, and
 * its data directory, root-only: what prometheusArgv(dir, ...) runs with.
 */
export function writePrometheusConfig(dir: string, config: LabPrometheusConfig, global: Record<string, string>): void {
    fs.mkdirSync(path.join(dir, "data"), { recursive: true, mode: 0o700 });
    writeFileAs(path.join(dir, "rules.yml"), config.alertRules, 0o600);
    const prometheusYml = { global, rule_files: [path.join(dir, "rules.yml")], ...parse(config.scrapeConfig) };
    writeFileAs(path.join(dir, "prometheus.yml"), stringify(prometheusYml), 0o600);
}

function runningPid(spec: Pick<LabSpec, "dir">): number | undefined {
    const file = pidFile(spec);
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8")) : undefined;
    return processAlive(pid) ? pid : undefined;
}

function apiGet(spec: Pick<LabSpec, "network">, pathAndQuery: string): unknown {
    const answer = run(["ip", "netns", "exec", spec.network.admin.namespace, "curl", "-sS", "--max-time", "5", "-g", `${labPrometheusUrl(spec)}${pathAndQuery}`], { allowFailure: true, timeoutMs: 10000 });
    try {
        return answer.status === 0 ? JSON.parse(answer.stdout) : undefined;
    } catch {
        return undefined;
    }
}

/** The targets and alert names Prometheus should report for `config`, and what it reports. */
function expectedAndLoaded(spec: Pick<LabSpec, "network">, config: LabPrometheusConfig): { expected: string; loaded: string } {
    const scrape = parse(config.scrapeConfig) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    const targets = scrape.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets)).sort();
    const rules = (parse(config.alertRules) as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups.flatMap((g) => g.rules.map((r) => r.alert ?? "")).sort();
    const targetsAnswer = apiGet(spec, "/api/v1/targets?state=active") as { data?: { activeTargets: Array<{ labels: { __address__?: string }; discoveredLabels: { __address__: string } }> } } | undefined;
    const rulesAnswer = apiGet(spec, "/api/v1/rules?type=alert") as { data?: { groups: Array<{ rules: Array<{ name: string }> }> } } | undefined;
    const loadedTargets = targetsAnswer?.data?.activeTargets.map((t) => t.discoveredLabels.__address__).sort() ?? [];
    const loadedRules = rulesAnswer?.data?.groups.flatMap((g) => g.rules.map((r) => r.name)).sort() ?? [];
    return { expected: JSON.stringify({ targets, rules }), loaded: JSON.stringify({ targets: loadedTargets, rules: loadedRules }) };
}

/** Waits (bounded) until Prometheus answers with exactly `config`'s targets and rules. */
async function readBack(spec: Pick<LabSpec, "dir" | "network">, config: LabPrometheusConfig, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = { expected: "", loaded: "no answer" };
    while (Date.now() < until) {
        if (!runningPid(spec)) break;
        last = expectedAndLoaded(spec, config);
        if (last.expected === last.loaded) return;
        await sleep(250);
    }
    const log = path.join(labPrometheusDir(spec), "prometheus.log");
    const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").slice(-5).join("\n") : "no log";
    throw new Error(`the lab's Prometheus did not load its config within ${timeoutMs} ms (${runningPid(spec) ? "running" : "not running"}): expected ${last.expected}, loaded ${last.loaded}\n${tail}`);
}

/** Starts the lab's Prometheus (or reloads it, if it runs) with `config`, and reads it back. */
export async function prometheusUp(spec: Pick<LabSpec, "dir" | "network">, config: LabPrometheusConfig): Promise<void> {
    // The rules' own evaluation clock: Prometheus's default (1 min) would hold every alert a minute longer.
    writePrometheusConfig(labPrometheusDir(spec), config, { evaluation_interval: "15s" });
    const running = runningPid(spec);
    if (running) {
        // SIGHUP rereads the config and the rules; a config it refuses leaves the old one running, which the read-back reports.
        process.kill(running, "SIGHUP");
    } else {
        const dir = labPrometheusDir(spec);
        const log = fs.openSync(path.join(dir, "prometheus.log"), "a");
        // As root, unlike Debian's unit (user prometheus): its files sit in the lab's root-only state directory.
        const child = spawn("ip", ["netns", "exec", spec.network.admin.namespace, ...prometheusArgv(dir, spec.network.admin.address)], { detached: true, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        child.unref();
        writeFileAs(pidFile(spec), String(child.pid), 0o600);
    }
    await readBack(spec, config, 60000);
}

/** Stops the lab's Prometheus, if it runs (bounded: 5 s). */
export async function prometheusDown(spec: Pick<LabSpec, "dir">): Promise<void> {
    const pid = runningPid(spec);
    if (pid) process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(50);
    fs.rmSync(labPrometheusDir(spec), { recursive: true, force: true });
}
