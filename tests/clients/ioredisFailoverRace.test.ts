/**
 * The ioredis client that never came back (docs/failover.md, "ioredis"): when Sentinel announces the
 * new master while ioredis is reconnecting and still waiting for a Sentinel's answer to "where is the
 * master?", its failover detector aborts that lookup and the client ends for good. A real Sentinel
 * cannot be told when to publish, so a scripted one on loopback plays the race step by step: it holds
 * the client's master lookup, publishes +switch-master to the client's detector, waits until the
 * detector has acted on it (it hangs up its subscriptions), and only then answers the lookup. No step
 * waits for a clock, so the race happens on every run, on a busy machine as on an idle one. The
 * master is a real redis-server; the client is the stack's own ioredis snippet, observed through its
 * events and its answer to a write, not through write counts taken at a wall-clock instant.
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { IOREDIS_END_GUARD, renderClientSnippets } from "../../components/core/clientConfig";
import { waitFor } from "../../lab/drill";
import { FakeSentinel } from "../support/fakeSentinel";
import { startRedis } from "../support/loopbackRedis";

const haveRedis = spawnSync("redis-server", ["--version"]).status === 0;
if (!haveRedis) {
    console.warn("\n!!! SKIPPED: redis-server is not installed, so the ioredis race cannot be reproduced (run `npm run setup`) !!!\n");
}
const maybe = haveRedis ? describe : describe.skip;

const REPO = path.resolve(__dirname, "..", "..");
const PROBE = path.join(REPO, "tests", "support", "ioredisProbe.mjs");

/** One client process running a snippet; its output lines, in order. */
class Probe {
    readonly lines: string[] = [];
    private pending = "";

    constructor(private readonly child: ChildProcessWithoutNullStreams) {
        child.stdout.on("data", (d: Buffer) => {
            const parts = (this.pending + d.toString()).split("\n");
            this.pending = parts.pop()!;
            this.lines.push(...parts);
        });
        child.stderr.on("data", (d: Buffer) => this.lines.push(`stderr ${d.toString().trim()}`));
    }

    events(from = 0): string[] { return this.lines.slice(from).filter((l) => l.startsWith("event ")).map((l) => l.slice(6)); }

    /** Sends one write and returns the probe's answer to it. */
    async write(): Promise<string> {
        const before = this.lines.length;
        this.child.stdin.write("write\n");
        await waitFor("the probe to answer a write", () => this.lines.slice(before).some((l) => l.startsWith("write ")), 15000);
        return this.lines.slice(before).find((l) => l.startsWith("write "))!.slice(6);
    }

    stop(): void {
        this.child.stdin.end();
        this.child.kill("SIGKILL");
    }
}

maybe("ioredis: +switch-master arriving while the client asks a Sentinel for the master", () => {
    let workDir: string;
    let redis: { process: ReturnType<typeof spawn>; port: number } | undefined;
    let sentinel: FakeSentinel | undefined;
    const probes: Probe[] = [];

    beforeAll(async () => {
        // Under the repo, so the snippet's `import Redis from "ioredis"` resolves to our node_modules.
        fs.mkdirSync(path.join(REPO, ".state"), { recursive: true });
        workDir = fs.mkdtempSync(path.join(REPO, ".state", "ioredis-race-"));
        redis = await startRedis(workDir);
        sentinel = await FakeSentinel.start("redis-ha", { host: "127.0.0.1", port: redis.port });
    });

    afterAll(async () => {
        for (const probe of probes) probe.stop();
        await sentinel?.close();
        redis?.process.kill("SIGKILL");
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    function startProbe(name: string, snippet: string): Probe {
        const snippetFile = path.join(workDir, `${name}.mjs`);
        fs.writeFileSync(snippetFile, snippet);
        const env = { ...process.env };
        delete env.REDIS_PASSWORD;
        delete env.REDIS_SENTINEL_PASSWORD;
        const probe = new Probe(spawn(process.execPath, [PROBE, snippetFile], { env, cwd: workDir }));
        probes.push(probe);
        return probe;
    }

    /**
     * Plays the race once on a connected client: the master drops its clients (as a crashed or
     * demoted master does), the client asks the Sentinel again, and the Sentinel answers only after
     * the client's detector has acted on +switch-master. Returns where the probe's output stood.
     */
    async function playRace(probe: Probe): Promise<number> {
        await waitFor("the client to be ready", () => probe.events().includes("ready"), 15000);
        expect(await probe.write()).toBe("ok ready");
        // The detector subscribes once the client has connected; the race needs it listening.
        await waitFor("the client's failover detector to subscribe", () => sentinel!.subscriberCount > 0, 15000);
        let heard = 0;
        let hookFailure: unknown;
        let hookDone = false;
        sentinel!.beforeNextLookup = async () => {
            try {
                heard = await sentinel!.publishSwitchMasterAndAwaitHangUp(15000);
            } catch (e) {
                hookFailure = e;
            }
            hookDone = true;
        };
        const mark = probe.lines.length;
        spawnSync("redis-cli", ["-p", String(redis!.port), "CLIENT", "KILL", "TYPE", "normal"]);
        await waitFor("the client to ask the Sentinel for the master while its detector acts", () => hookDone, 30000);
        if (hookFailure) throw hookFailure;
        expect(heard).toBeGreaterThan(0);
        return mark;
    }

    test("without the snippet's guard the race ends ioredis for good (the bug is real in this ioredis)", async () => {
        const snippets = renderClientSnippets({ masterName: "redis-ha", sentinels: [`127.0.0.1:${sentinel!.port}`] });
        const unguarded = snippets.ioredis.replace(IOREDIS_END_GUARD, "");
        expect(unguarded).not.toBe(snippets.ioredis);
        const probe = startProbe("unguarded", unguarded);
        const mark = await playRace(probe);
        // If this starts failing, ioredis fixed the race: drop IOREDIS_END_GUARD and this test.
        await waitFor("the unguarded client to end", () => probe.events(mark).includes("end"), 15000);
        expect(probe.events(mark)).toContain("error Connection is closed.");
        // Ended is final: a write is refused at once and the client stays ended.
        expect(await probe.write()).toBe("err Connection is closed. | end");
        expect(probe.events(mark)).not.toContain("ready");
        probe.stop();
    }, 60000);

    test("the stack's ioredis snippet writes again after the same race", async () => {
        const snippets = renderClientSnippets({ masterName: "redis-ha", sentinels: [`127.0.0.1:${sentinel!.port}`] });
        expect(snippets.ioredis).toContain(IOREDIS_END_GUARD);
        const probe = startProbe("snippet", snippets.ioredis);
        const mark = await playRace(probe);
        // The same end, and then the guard's own connect: the client comes back by itself.
        await waitFor("the guarded client to end and be ready again", () => {
            const events = probe.events(mark);
            return events.includes("end") && events.lastIndexOf("ready") > events.indexOf("end");
        }, 30000);
        expect(await probe.write()).toBe("ok ready");
        probe.stop();
    }, 60000);

    test("an app that quits its client is not reconnected by the guard", async () => {
        const snippets = renderClientSnippets({ masterName: "redis-ha", sentinels: [`127.0.0.1:${sentinel!.port}`] });
        const snippetFile = path.join(workDir, "quit.mjs");
        fs.writeFileSync(snippetFile, snippets.ioredis);
        // An app's quit() emits "end" like the race does; the guard must tell the two apart. After
        // the quit, a Sentinel lookup would be the guard reconnecting: there must be none.
        const script = `
            const { redis } = await import(${JSON.stringify(snippetFile)});
            redis.on("error", () => undefined);
            await redis.set("k", "v");
            const ended = new Promise((resolve) => redis.once("end", resolve));
            await redis.quit();
            await ended;
            // The guard's own "end" listener ran before this point: had it reconnected, the status would say so.
            process.stdout.write("quit " + redis.status + "\\n");
            process.stdin.on("data", () => { process.stdout.write("status " + redis.status + "\\n"); process.exit(0); });`;
        const env = { ...process.env };
        delete env.REDIS_PASSWORD;
        delete env.REDIS_SENTINEL_PASSWORD;
        // Not spawnSync: the scripted Sentinel answers from this very process.
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env, cwd: workDir, timeout: 30000 });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        await waitFor("the app to quit its client", () => stdout.includes("quit "), 20000);
        const lookupsAfterQuit = sentinel!.lookups;
        // A round trip to the app's event loop: any reconnect the "end" handler started is under way by now.
        child.stdin.write("status\n");
        await new Promise((resolve) => child.on("exit", resolve));
        expect(stderr).toBe("");
        expect(stdout.trim().split("\n")).toEqual(["quit end", "status end"]);
        expect(sentinel!.lookups).toBe(lookupsAfterQuit);
    }, 60000);
});
