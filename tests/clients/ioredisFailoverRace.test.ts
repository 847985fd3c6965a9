/**
 * The ioredis client that never came back (docs/failover.md, "ioredis"): when Sentinel announces the
 * new master while ioredis is reconnecting and still waiting for a Sentinel's answer to "where is the
 * master?", its failover detector aborts that lookup and the client ends for good. A real Sentinel
 * cannot be told when to publish, so a scripted one on loopback does it at exactly that moment; the
 * master is a real redis-server and the client is the writer the failover drills use, importing the
 * stack's ioredis snippet.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { IOREDIS_END_GUARD, renderClientSnippets } from "../../components/core/clientConfig";
import { waitFor } from "../../lab/drill";
import { sleep } from "../../lab/shell";
import { Writer } from "../../lab/writers";
import { FakeSentinel } from "../support/fakeSentinel";

const haveRedis = spawnSync("redis-server", ["--version"]).status === 0;
if (!haveRedis) {
    console.warn("SKIPPED: redis-server is not installed, so the ioredis race cannot be reproduced (run `npm run setup`)");
}
const maybe = haveRedis ? describe : describe.skip;

const REPO = path.resolve(__dirname, "..", "..");

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

maybe("ioredis: +switch-master arriving while the client asks a Sentinel for the master", () => {
    let workDir: string;
    let redisServer: ChildProcess | undefined;
    let redisPort: number;
    let sentinel: FakeSentinel | undefined;
    const writers: Writer[] = [];

    beforeAll(async () => {
        // Under the repo, so the snippet's `import Redis from "ioredis"` resolves to our node_modules.
        fs.mkdirSync(path.join(REPO, ".state"), { recursive: true });
        workDir = fs.mkdtempSync(path.join(REPO, ".state", "ioredis-race-"));
        redisPort = await freePort();
        redisServer = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workDir], { stdio: "ignore" });
        await waitFor("redis-server to answer", () => spawnSync("redis-cli", ["-p", String(redisPort), "PING"]).stdout?.toString().trim() === "PONG", 10000);
        sentinel = await FakeSentinel.start("redis-ha", { host: "127.0.0.1", port: redisPort });
    });

    afterAll(async () => {
        await Promise.all(writers.map((w) => w.stop()));
        await sentinel?.close();
        redisServer?.kill("SIGKILL");
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    /** Starts the drills' ioredis writer on `snippet`, lets it write, then plays the race once. */
    async function raceOnce(name: string, snippet: string): Promise<{ writer: Writer; raceAt: number }> {
        const snippetFile = path.join(workDir, `${name}.mjs`);
        fs.writeFileSync(snippetFile, snippet);
        const config = { key: `writes:${name}`, intervalMs: 20, maxSeconds: 60, waitMs: 1, replicas: 1, snippetFile };
        const env = { ...process.env };
        delete env.REDIS_PASSWORD;
        delete env.REDIS_SENTINEL_PASSWORD;
        const child = spawn(process.execPath, [path.join(REPO, "lab", "writers", "ioredis.mjs"), JSON.stringify(config)], { env });
        const writer = new Writer("ioredis", config.key, child);
        writers.push(writer);
        await waitFor(`${name} to write`, () => writer.acked.length >= 10, 15000);

        let published = 0;
        sentinel!.beforeNextLookup = async () => {
            // The detector subscribed on the previous connection hears the switch mid-lookup.
            published = sentinel!.publishSwitchMaster();
            await sleep(300);
        };
        const raceAt = Date.now();
        // The master drops its clients, as a crashed or demoted master does; ioredis reconnects through Sentinel.
        spawnSync("redis-cli", ["-p", String(redisPort), "CLIENT", "KILL", "TYPE", "normal"]);
        await waitFor("the client to ask the Sentinel again", () => sentinel!.beforeNextLookup === undefined, 5000);
        expect(published).toBeGreaterThan(0);
        return { writer, raceAt };
    }

    test("without the snippet's guard the race still ends ioredis for good (the bug is real in this ioredis)", async () => {
        const snippets = renderClientSnippets({ masterName: "redis-ha", sentinels: [`127.0.0.1:${sentinel!.port}`] });
        const unguarded = snippets.ioredis.replace(IOREDIS_END_GUARD, "");
        expect(unguarded).not.toBe(snippets.ioredis);
        const { writer, raceAt } = await raceOnce("unguarded", unguarded);
        await sleep(4000);
        // If this starts failing, ioredis fixed the race: drop IOREDIS_END_GUARD and this test.
        expect(writer.acksAfter(raceAt)).toBe(0);
        expect(writer.errors.slice(-3).join(" | ")).toContain("Connection is closed.");
        await writer.stop();
    });

    test("the stack's ioredis snippet writes again after the same race", async () => {
        const snippets = renderClientSnippets({ masterName: "redis-ha", sentinels: [`127.0.0.1:${sentinel!.port}`] });
        expect(snippets.ioredis).toContain(IOREDIS_END_GUARD);
        const { writer, raceAt } = await raceOnce("snippet", snippets.ioredis);
        await waitFor("the snippet's client to write again", () => writer.acksAfter(raceAt) >= 10, 10000);
        expect(writer.running).toBe(true);
        await writer.stop();
    });

    test("an app that quits its client is not reconnected by the guard", async () => {
        const snippets = renderClientSnippets({ masterName: "redis-ha", sentinels: [`127.0.0.1:${sentinel!.port}`] });
        const snippetFile = path.join(workDir, "quit.mjs");
        fs.writeFileSync(snippetFile, snippets.ioredis);
        const script = `
            const { redis } = await import(${JSON.stringify(snippetFile)});
            redis.on("error", () => undefined);
            await redis.set("k", "v");
            await redis.quit();
            await new Promise((r) => setTimeout(r, 1500));
            process.stdout.write(redis.status + "\\n");
            process.exit(0);`;
        const env = { ...process.env };
        delete env.REDIS_PASSWORD;
        delete env.REDIS_SENTINEL_PASSWORD;
        // Not spawnSync: the scripted Sentinel answers from this very process.
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env, cwd: workDir, timeout: 15000 });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        await new Promise((resolve) => child.on("exit", resolve));
        expect(stderr).toBe("");
        expect(stdout.trim()).toBe("end");
    });
});
