/**
 * The master-crash drill, shared by the lab test (which asserts on it) and the failover benchmark
 * (which measures it): an ioredis client in the app namespace writes every 20 ms, the master's
 * redis-server gets SIGKILL, and the drill records when writes stopped and resumed, what was lost,
 * and how the old master came back.
 */
import { ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { IOREDIS_RECOMMENDED_OPTIONS } from "../components/core/clientConfig";
import { parseReplicationInfo } from "../components/core/checkOutput";
import type { Lab } from "./runtime";
import { sleep } from "./shell";

export interface DrillResult {
    oldMaster: string;
    newMaster: string;
    /** Last acknowledged write before the crash to the first one after it, as the client saw it. */
    outageMs: number;
    acknowledged: number;
    /** Acknowledged writes missing from the new master. */
    lost: number[];
    /** What the restarted old master said in its very first INFO. */
    firstRoleAfterRestart: { role: string; master?: string };
    /** What its boot guard logged. */
    bootGuardLog: string;
    /** Crash to the checks passing again, old master back as a replica. */
    healthyAfterMs: number;
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number, explain?: () => string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
        if (await predicate()) return;
        await sleep(100);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `\n${explain()}` : ""}`);
}

export async function crashDrill(lab: Lab, options: { failoverWithinMs?: number } = {}): Promise<DrillResult> {
    const { redisPassword, sentinelPassword } = lab.secrets;
    const app = lab.network.app.namespace;
    const sentinels = lab.network.hosts.filter((h) => h.plan.sentinel);
    const askSentinel = async (address: string) =>
        (await lab.redisCli(app, address, lab.settings.sentinelPort, ["SENTINEL", "get-master-addr-by-name", lab.settings.masterName], sentinelPassword)).stdout.trim().split("\n").join(":");
    const oldMaster = await askSentinel(sentinels[0].address);
    const oldHost = lab.network.hosts.find((h) => `${h.address}:${lab.settings.redisPort}` === oldMaster);
    if (!oldHost) throw new Error(`the Sentinels name ${oldMaster || "nothing"} as master, which is no lab host`);
    const otherSentinels = sentinels.filter((s) => s !== oldHost);

    const writer: ChildProcessWithoutNullStreams = spawn("ip", ["netns", "exec", app, process.execPath, path.join(__dirname, "writer.js"), JSON.stringify({
        sentinels: sentinels.map((h) => ({ host: h.address, port: lab.settings.sentinelPort })),
        masterName: lab.settings.masterName,
        options: IOREDIS_RECOMMENDED_OPTIONS,
        intervalMs: 20,
        maxSeconds: 300,
    })], {
        env: { ...process.env, REDIS_PASSWORD: redisPassword, REDIS_SENTINEL_PASSWORD: sentinelPassword, NODE_PATH: path.resolve(__dirname, "../node_modules") },
    });
    const acked: number[] = [];
    const ackTimes: number[] = [];
    const errors: string[] = [];
    let pending = "";
    writer.stdout.on("data", (d: Buffer) => {
        const lines = (pending + d.toString()).split("\n");
        pending = lines.pop()!;
        for (const line of lines) {
            const m = /^ack (\d+) (\d+)$/.exec(line);
            if (m) {
                acked.push(Number(m[1]));
                ackTimes.push(Number(m[2]));
            } else if (line.startsWith("err ")) {
                errors.push(line);
            }
        }
    });
    const finished = new Promise<void>((resolve) => writer.on("exit", () => resolve()));
    try {
        await waitFor("the writer's first acknowledged writes", () => acked.length >= 20, 20000);
        const crashAt = Date.now();
        await lab.stop(oldHost.namespace, "redis", "SIGKILL");
        await waitFor("every other Sentinel to name a new master", async () => {
            const views = await Promise.all(otherSentinels.map((s) => askSentinel(s.address)));
            return views.every((v) => v !== oldMaster && v === views[0] && /:\d+$/.test(v));
        }, options.failoverWithinMs ?? 60000, () =>
            // Say what the Sentinels were doing, not just that they did not finish.
            otherSentinels.map((s) => fs.readFileSync(path.join(lab.dir, "hosts", s.namespace, "var-log-redis", "redis-sentinel.log"), "utf8").split("\n").slice(-25).join("\n")).join("\n---\n"));
        const newMaster = await askSentinel(otherSentinels[0].address);
        const before = acked.length;
        // Generous: the test asserts that writes resume, the benchmark reports how fast.
        await waitFor("writes to flow again after the failover", () => acked.length > before + 50, 60000, () =>
            `the client's last errors:\n${errors.slice(-5).join("\n")}\nthe new master's replication: ${newMaster}`);
        const lastBefore = [...ackTimes].reverse().find((t) => t <= crashAt) ?? crashAt;
        const firstAfter = ackTimes.find((t) => t > crashAt)!;

        writer.kill("SIGTERM");
        await finished;
        const [address, port] = newMaster.split(":");
        const stored = await lab.redisCli(app, address, Number(port), ["LRANGE", "writes", "0", "-1"], redisPassword);
        const present = new Set(stored.stdout.split("\n").filter(Boolean).map(Number));
        const lost = acked.filter((n) => !present.has(n));

        await lab.start(oldHost.namespace, "redis");
        const first = await lab.redisCli(app, oldHost.address, lab.settings.redisPort, ["INFO", "replication"], redisPassword);
        const firstView = parseReplicationInfo(first.stdout);
        const check = await lab.check(60);
        if (!check.ok) throw new Error(`after the drill the checks still fail:\n  - ${check.failures.join("\n  - ")}`);
        // The next drill starts from an empty list, so its lost-write count is its own.
        await lab.redisCli(app, address, Number(port), ["DEL", "writes"], redisPassword);
        return {
            oldMaster,
            newMaster,
            outageMs: firstAfter - lastBefore,
            acknowledged: acked.length,
            lost,
            firstRoleAfterRestart: { role: firstView.role, master: firstView.masterAddress },
            bootGuardLog: fs.readFileSync(path.join(lab.dir, "hosts", oldHost.namespace, "boot-guard.log"), "utf8"),
            healthyAfterMs: Date.now() - crashAt,
        };
    } finally {
        if (writer.exitCode === null) writer.kill("SIGKILL");
    }
}
