/**
 * Fault drills, shared by the lab tests (which assert on their outcomes) and `npm run bench:failover`
 * (which measures them). Each drill starts writers built from the stack's client snippets, breaks
 * something, waits for the outcome the design promises (a failover, or correctly none), repairs what
 * it broke the way an operator or a reboot would, and waits for the checks to pass again. It records
 * what the applications saw: write outage, acknowledged writes lost, writes lost that WAIT 1 had
 * confirmed on a replica, failovers beyond the one expected, and the time to full health.
 */
import * as fs from "fs";
import * as path from "path";
import { renderSwitchoverScript } from "../cloud-init/switchoverScript";
import { parseReplicationInfo, replicasRememberedAsMasters } from "../components/core/checkOutput";
import { splitVoteFailoverMs } from "../components/core/clientConfig";
import type { StackSettings } from "../components/core/settingsSchema";
import type { LabHost } from "../components/platforms/lab/machine";
import type { Lab } from "./runtime";
import { sleep } from "../components/platforms/lab/shell";
import { WriterClient, startWriters } from "./writers";

export type Scenario =
    | "crash" | "host-loss" | "forced-failover" | "switchover" | "sentinel-lost"
    | "two-sentinels-lost" | "replica-lost" | "power-loss" | "partition" | "planned-switchover";

export const SCENARIOS: Readonly<Record<Scenario, { failover: boolean; what: string }>> = {
    "crash": { failover: true, what: "SIGKILL of the master's redis-server; restarted afterwards (the boot guard decides its role)" },
    "host-loss": { failover: true, what: "the master's namespace cut off (its link down: Redis and its Sentinel unreachable), then reconnected" },
    "forced-failover": { failover: true, what: "SENTINEL FAILOVER with the master healthy and clients writing" },
    "switchover": { failover: true, what: "planned: CLIENT PAUSE WRITE on the master, replicas caught up, then SENTINEL FAILOVER" },
    "sentinel-lost": { failover: true, what: "a replica host's Sentinel killed, then the master crashed: the other two must still fail over" },
    "two-sentinels-lost": { failover: false, what: "two of three Sentinels killed, then the master crashed: no majority, so no failover, and the check says so" },
    "replica-lost": { failover: false, what: "SIGKILL of one replica: writes go on (minReplicasToWrite 1 of 2), no failover, the check names the replica" },
    "power-loss": { failover: false, what: "every redis-server and Sentinel killed at once, all restarted: data back from the AOF" },
    "planned-switchover": { failover: true, what: "day 2: the switchover script that pulumi up runs before it replaces the master host (and npm run ops -- switchover), over SSH from a Sentinel host" },
    "partition": { failover: true, what: "the master cut off from the other nodes but not from the clients, then healed: what it acknowledged alone is lost (minReplicasMaxLag bounds it)" },
};

export interface WriterFigures {
    client: WriterClient;
    /** Last acknowledged write before the fault to the first after it, as the client saw it. */
    outageMs: number;
    resumed: boolean;
    acknowledged: number;
    /** Acknowledged writes missing from the master at the end. */
    lost: number;
    /**
     * Of those, writes that at least one replica had confirmed (what WAIT 1 promises). Not always 0:
     * Sentinel may promote another replica, one that a lost link had left a write or two behind.
     */
    confirmedLost: number;
    /** Of those, writes that every replica had confirmed (WAIT <replicas>): the promise is that this is always 0. */
    allConfirmedLost: number;
    errors: number;
    lastErrors: string[];
}

export interface DrillResult {
    scenario: Scenario;
    oldMaster: string;
    newMaster: string;
    /** Distinct master switches the Sentinels announced (+switch-master) during the drill. */
    failovers: number;
    /** Switches beyond the one the scenario calls for (or any, where it calls for none). */
    falseFailovers: number;
    /**
     * Elections a Sentinel gave up for want of a majority (-failover-abort-not-elected): a split vote,
     * after which no Sentinel tries again for twice failover-timeout.
     */
    abortedElections: number;
    writers: WriterFigures[];
    /** Fault to the live Sentinels agreeing on a new master, where the scenario fails over. */
    failoverAfterMs?: number;
    /** Fault to the checks passing again with every node back. */
    healthyAfterMs: number;
    /** What a node said in its first INFO after a restart (crash, host loss, power loss). */
    firstRoleAfterRestart?: { role: string; master?: string };
    bootGuardLog?: string;
    /** What the check said while the fault lasted, where the scenario asks for that. */
    checkFailuresDuringFault?: string[];
}

/** Application traffic that is not a writer (the WordPress shop): started before the fault, stopped once it has resumed. */
export interface DrillTraffic {
    start(): Promise<void>;
    /** It has recovered: its work since `t` went through. */
    resumedSince(t: number): boolean;
    /** The fault is in place: work held open across it goes on now. */
    faulted?(): void;
    progress(): string;
    stop(): Promise<void>;
}

export interface DrillOptions {
    clients?: readonly WriterClient[];
    traffic?: DrillTraffic;
    /**
     * How long to wait for the Sentinels to agree on a new master. Default: long enough for two split
     * votes in a row (failoverWithinMsFor), and never less than 60 s.
     */
    failoverWithinMs?: number;
    /** How long after the new master to wait for every writer to resume. Default 60 s. */
    resumeWithinMs?: number;
    log?: (line: string) => void;
}

export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number, explain?: () => string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
        if (await predicate()) return;
        await sleep(100);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `\n${explain()}` : ""}`);
}

const sentinelLog = (lab: Lab, host: LabHost) => path.join(lab.dir, "hosts", host.namespace, "var-log-redis", "redis-sentinel.log");
const fileSize = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/** Where each Sentinel's log ends now, so what is appended later can be read on its own. */
export function sentinelLogOffsets(lab: Lab): Map<string, number> {
    return new Map(lab.network.hosts.filter((h) => h.plan.sentinel).map((h) => [h.namespace, fileSize(sentinelLog(lab, h))]));
}

/** What each Sentinel logged since `offsets`. */
export function sentinelLogsSince(lab: Lab, offsets: Map<string, number>): string[] {
    return lab.network.hosts.filter((h) => h.plan.sentinel && fs.existsSync(sentinelLog(lab, h))).map((h) => {
        const text = fs.readFileSync(sentinelLog(lab, h));
        return text.subarray(Math.min(offsets.get(h.namespace) ?? 0, text.length)).toString("utf8");
    });
}

/**
 * How long a drill waits for a new master: a failover whose election splits `splitVotes` times in a
 * row (splitVoteFailoverMs), 15 s for the agreement on the fault and the promotion on a busy machine,
 * and never less than 60 s.
 */
export function failoverWithinMsFor(settings: Pick<StackSettings, "downAfterMilliseconds" | "failoverTimeoutMilliseconds">, splitVotes = 2): number {
    return Math.max(60000, splitVoteFailoverMs(settings, splitVotes) + 15000);
}

/** Distinct "+switch-master" announcements appended to the Sentinels' logs since `offsets`. */
export function switchesSince(lab: Lab, offsets: Map<string, number>): string[] {
    const switches = new Set<string>();
    for (const text of sentinelLogsSince(lab, offsets)) {
        for (const m of text.matchAll(/\+switch-master (\S+) (\S+) (\d+) (\S+) (\d+)/g)) switches.add(`${m[2]}:${m[3]} -> ${m[4]}:${m[5]}`);
    }
    return [...switches];
}

export async function runDrill(lab: Lab, scenario: Scenario, options: DrillOptions = {}): Promise<DrillResult> {
    const log = options.log ?? (() => undefined);
    const settings = lab.settings;
    const app = lab.network.app.namespace;
    const sentinelHosts = lab.network.hosts.filter((h) => h.plan.sentinel);
    const redisHosts = lab.network.hosts.filter((h) => h.plan.redisRole);
    const askSentinel = async (host: LabHost) =>
        (await lab.sentinelAdminCli(app, host.address, ["SENTINEL", "get-master-addr-by-name", settings.masterName])).stdout.trim().split("\n").join(":");
    const redis = (host: LabHost, args: string[]) => lab.operatorCli(app, host.address, args);
    const hostAt = (address: string) => lab.network.hosts.find((h) => `${h.address}:${settings.redisPort}` === address);

    const oldMaster = await askSentinel(sentinelHosts.find((h) => lab.isRunning(h.namespace, "sentinel")) ?? sentinelHosts[0]);
    const oldHost = hostAt(oldMaster);
    if (!oldHost) throw new Error(`the Sentinels name ${oldMaster || "nothing"} as master, which is no lab host`);
    const replicaHosts = redisHosts.filter((h) => h !== oldHost);
    const otherSentinels = sentinelHosts.filter((s) => s !== oldHost);
    const offsets = sentinelLogOffsets(lab);
    const sentinelLogTails = () => otherSentinels.map((s) => `${s.namespace}:\n${fs.readFileSync(sentinelLog(lab, s), "utf8").split("\n").slice(-20).join("\n")}`).join("\n---\n");
    const newMasterAgreed = async (asked: LabHost[]) => {
        const views = await Promise.all(asked.map(askSentinel));
        return views.every((v) => v !== oldMaster && v === views[0] && /:\d+$/.test(v));
    };

    // A Sentinel whose last INFO of a replica said "master" (the previous drill's old master, for up to
    // 10 s after another Sentinel reconfigured it) "fixes" that replica back the moment a SENTINEL
    // FAILOVER promotes it, and the failover stalls. Start every drill from a settled view.
    await waitFor("every Sentinel to see every replica as a replica", async () => {
        const live = sentinelHosts.filter((h) => lab.isRunning(h.namespace, "sentinel"));
        const stale = await Promise.all(live.map(async (h) => replicasRememberedAsMasters(
            (await lab.sentinelAdminCli(app, h.address, ["SENTINEL", "REPLICAS", settings.masterName])).stdout)));
        return stale.every((names) => names.length === 0);
    }, 30000);

    const writers = await startWriters(lab, options.clients ?? ["ioredis"]);
    const traffic = options.traffic;
    const result: Partial<DrillResult> = { scenario, oldMaster };
    const restarted: LabHost[] = [];
    let faultAt = 0;
    try {
        await traffic?.start();
        await sleep(300); // a little history before the fault, so "last write before" is real
        faultAt = Date.now();
        log(`${scenario}: fault at ${new Date(faultAt).toISOString()} on ${oldHost.namespace}`);
        switch (scenario) {
            case "crash":
                await lab.stop(oldHost.namespace, "redis", "SIGKILL");
                break;
            case "host-loss":
                await lab.exec(oldHost.namespace, ["ip", "link", "set", "eth0", "down"]);
                break;
            case "forced-failover":
                await lab.sentinelAdminCli(app, otherSentinels[0].address, ["SENTINEL", "FAILOVER", settings.masterName]);
                break;
            case "switchover": {
                // Writes block (not fail) while paused; once every replica has the master's last offset
                // nothing acknowledged can be lost by promoting one of them.
                const pauseMs = 15000;
                await redis(oldHost, ["CLIENT", "PAUSE", String(pauseMs), "WRITE"]);
                await waitFor("every replica to catch up with the paused master", async () => {
                    const info = parseReplicationInfo((await redis(oldHost, ["INFO", "replication"])).stdout);
                    return info.replicas.length === replicaHosts.length && info.replicas.every((r) => r.offset === info.offset);
                }, pauseMs / 2);
                await lab.sentinelAdminCli(app, otherSentinels[0].address, ["SENTINEL", "FAILOVER", settings.masterName]);
                break;
            }
            case "planned-switchover": {
                const script = renderSwitchoverScript({
                    hostName: otherSentinels[0].namespace,
                    masterName: settings.masterName,
                    sentinels: sentinelHosts.map((h) => `${h.address}:${settings.sentinelPort}`),
                    expectedReplicas: replicaHosts.length,
                });
                const ran = await lab.ssh(otherSentinels[0].namespace, "bash -s", script, 120000);
                if (!/^RESULT ok$/m.test(ran.stdout)) throw new Error(`the switchover script failed:\n${ran.stdout}${ran.stderr}`);
                break;
            }
            case "sentinel-lost":
                await lab.stop(otherSentinels[0].namespace, "sentinel", "SIGKILL");
                await lab.stop(oldHost.namespace, "redis", "SIGKILL");
                break;
            case "two-sentinels-lost":
                for (const s of otherSentinels.slice(0, 2)) await lab.stop(s.namespace, "sentinel", "SIGKILL");
                await lab.stop(oldHost.namespace, "redis", "SIGKILL");
                break;
            case "replica-lost":
                await lab.stop(replicaHosts[0].namespace, "redis", "SIGKILL");
                break;
            case "partition":
                // Blackhole routes: packets to the other nodes vanish, the app subnet is still reachable.
                for (const h of lab.network.hosts.filter((x) => x !== oldHost)) await lab.exec(oldHost.namespace, ["ip", "route", "add", "blackhole", `${h.address}/32`]);
                break;
            case "power-loss":
                for (const h of lab.network.hosts) {
                    if (h.plan.redisRole) await lab.stop(h.namespace, "redis", "SIGKILL");
                    if (h.plan.sentinel) await lab.stop(h.namespace, "sentinel", "SIGKILL");
                }
                break;
        }
        traffic?.faulted?.();

        // The outcome the design promises.
        const expectFailover = SCENARIOS[scenario].failover;
        // The Sentinels still alive and reachable (the old master's own one is cut off with it in a host loss).
        const asked = scenario === "sentinel-lost" ? [...otherSentinels.slice(1), oldHost] : otherSentinels;
        if (expectFailover) {
            await waitFor("the live Sentinels to agree on a new master", () => newMasterAgreed(asked),
                options.failoverWithinMs ?? failoverWithinMsFor(settings), sentinelLogTails);
            result.failoverAfterMs = Date.now() - faultAt;
        } else if (scenario === "two-sentinels-lost") {
            // Long enough for a failover to have happened if a lone Sentinel could start one.
            await sleep(settings.downAfterMilliseconds + 5000);
            const check = await lab.check(5);
            result.checkFailuresDuringFault = check.failures;
        } else if (scenario === "replica-lost") {
            await sleep(Math.min(settings.downAfterMilliseconds + 3000, 15000));
            const check = await lab.check(5);
            result.checkFailuresDuringFault = check.failures;
        } else if (scenario === "power-loss") {
            await sleep(500);
            // All at once, like a rack coming back: Sentinels first only because systemd would start
            // them in parallel and the boot guard must find some to ask.
            for (const h of lab.network.hosts) if (h.plan.sentinel) await lab.start(h.namespace, "sentinel");
            for (const h of redisHosts) {
                await lab.start(h.namespace, "redis");
                restarted.push(h);
            }
        }

        if (scenario === "partition") {
            // Clients still reach the cut-off master, and its own Sentinel, which cannot hear the others
            // and still names it: they keep writing there until it refuses writes (NOREPLICAS, after
            // minReplicasMaxLag seconds without replica acks). Let that play out, then heal: Sentinel
            // demotes the old master and drops its clients, which then find the new one.
            await sleep(Math.max(0, faultAt + (settings.minReplicasMaxLag + 2) * 1000 - Date.now()));
            await healPartition(lab, oldHost);
        }
        // Every writer must write again (after repairs, where the fault itself stops writes).
        if (scenario === "two-sentinels-lost") {
            // Repair as an operator would: the master back first (the lone Sentinel still names it), then the Sentinels.
            await lab.start(oldHost.namespace, "redis");
            restarted.push(oldHost);
            for (const s of otherSentinels.slice(0, 2)) await lab.start(s.namespace, "sentinel");
        }
        const resumeFrom = Date.now();
        await waitFor("every writer to write again", () => writers.every((w) => w.acksAfter(resumeFrom) >= 10) && (traffic?.resumedSince(resumeFrom) ?? true),
            options.resumeWithinMs ?? 60000,
            () => [...writers.map((w) => `${w.client}: ${w.acksAfter(resumeFrom)} writes since; last errors: ${w.errors.slice(-4).join(" | ") || "none"}`), ...(traffic ? [`traffic: ${traffic.progress()}`] : [])].join("\n"));
        const gaps = new Map(writers.map((w) => [w.client, w.outageSince(faultAt)]));
        for (const w of writers) await w.stop();
        await traffic?.stop();

        // Repairs.
        if (scenario === "crash" || scenario === "sentinel-lost") {
            await lab.start(oldHost.namespace, "redis");
            restarted.push(oldHost);
        }
        if (scenario === "sentinel-lost") await lab.start(otherSentinels[0].namespace, "sentinel");
        if (scenario === "host-loss") await lab.exec(oldHost.namespace, ["ip", "link", "set", "eth0", "up"]);
        if (scenario === "replica-lost") {
            await lab.start(replicaHosts[0].namespace, "redis");
            restarted.push(replicaHosts[0]);
        }
        if (scenario === "switchover") await redis(oldHost, ["CLIENT", "UNPAUSE"]);
        if (restarted.includes(oldHost)) {
            const first = parseReplicationInfo((await redis(oldHost, ["INFO", "replication"])).stdout);
            result.firstRoleAfterRestart = { role: first.role, master: first.masterAddress };
            result.bootGuardLog = fs.readFileSync(path.join(lab.dir, "hosts", oldHost.namespace, "boot-guard.log"), "utf8").trim().split("\n").slice(-1)[0];
        }

        const check = await lab.check(90);
        if (!check.ok) throw new Error(`${scenario}: after the repairs the checks still fail:\n  - ${check.failures.join("\n  - ")}`);
        result.healthyAfterMs = Date.now() - faultAt;
        const newMaster = check.reports.find((r) => r.report)?.report?.agreedMaster ?? oldMaster;
        result.newMaster = newMaster;
        const newMasterHost = hostAt(newMaster)!;
        result.writers = [];
        for (const w of writers) {
            const stored = await redis(newMasterHost, ["LRANGE", w.key, "0", "-1"]);
            const present = new Set(stored.stdout.split("\n").filter(Boolean).map(Number));
            const lost = w.acked.filter((n) => !present.has(n));
            result.writers.push({
                client: w.client,
                ...gaps.get(w.client)!,
                acknowledged: w.acked.length,
                lost: lost.length,
                confirmedLost: lost.filter((n) => w.confirmed.has(n)).length,
                allConfirmedLost: lost.filter((n) => w.confirmedByAll.has(n)).length,
                errors: w.errors.length,
                lastErrors: w.errors.slice(-3),
            });
            // The next drill starts from empty lists, so its lost-write counts are its own.
            await redis(newMasterHost, ["DEL", w.key]);
        }
        const switches = switchesSince(lab, offsets);
        result.failovers = switches.length;
        result.falseFailovers = Math.max(0, switches.length - (expectFailover ? 1 : 0));
        result.abortedElections = sentinelLogsSince(lab, offsets).reduce((n, text) => n + (text.match(/-failover-abort-not-elected/g) ?? []).length, 0);
        return result as DrillResult;
    } catch (e) {
        // Leave the lab whole for the next drill: everything back up, nothing paused.
        await restoreAll(lab).catch((why) => log(`restoring the lab after a failed drill: ${why}`));
        throw e;
    } finally {
        for (const w of writers) w.kill();
        await traffic?.stop();
    }
}

/** Every link up, every service running, no client pause: what an operator does after a bad day. */
export async function restoreAll(lab: Lab): Promise<void> {
    for (const h of lab.network.hosts) {
        await lab.exec(h.namespace, ["ip", "link", "set", "eth0", "up"]);
        await healPartition(lab, h);
        if (h.plan.sentinel && !lab.isRunning(h.namespace, "sentinel")) await lab.start(h.namespace, "sentinel");
    }
    for (const h of lab.network.hosts) {
        if (!h.plan.redisRole) continue;
        if (!lab.isRunning(h.namespace, "redis")) await lab.start(h.namespace, "redis");
        await lab.operatorCli(lab.network.app.namespace, h.address, ["CLIENT", "UNPAUSE"]);
    }
}

async function healPartition(lab: Lab, host: LabHost): Promise<void> {
    const routes = (await lab.exec(host.namespace, ["ip", "route", "show", "type", "blackhole"])).stdout;
    for (const m of routes.matchAll(/^blackhole (\S+)/gm)) await lab.exec(host.namespace, ["ip", "route", "del", "blackhole", m[1]]);
}
