/**
 * The planned switchover, run for real on loopback: it refuses an unsettled cluster without touching
 * anything, and from a settled one it hands the master role to a replica with writes paused, so
 * that every write the old master acknowledged is on the new one.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderSwitchoverScript } from "../../cloud-init/switchoverScript";
import { waitFor } from "../../lab/drill";
import { SENTINEL_ADMIN_USER } from "../../components/core/aclUsers";
import { LocalCluster, LocalNode, redisAvailable } from "../support/localRedis";
import { REDIS_PASSWORD, SENTINEL_PASSWORD } from "../support/fixtures";

if (!redisAvailable) console.warn("\n!!! SKIPPED: redis-server/redis-sentinel are not installed; the switchover script is NOT exercised. Run `npm run setup`. !!!\n");
const maybe = redisAvailable ? describe : describe.skip;

maybe("planned switchover against real Redis and Sentinel", () => {
    let cluster: LocalCluster;
    const at = (n: LocalNode) => `${n.address}:${n.redisPort}`;
    const cli = (n: LocalNode, args: string[], port = n.redisPort, password = REDIS_PASSWORD) =>
        spawnSync("redis-cli", [...(port === n.sentinelPort ? ["--user", SENTINEL_ADMIN_USER] : []), "-h", n.address, "-p", String(port), "--raw", ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: password } }).stdout.trim();
    const switchover = () => {
        const script = renderSwitchoverScript({ hostName: "local-0", masterName: cluster.masterName, sentinels: cluster.sentinelEndpoints(), expectedReplicas: 2, timeoutSeconds: 20, sentinelConfPath: cluster.nodes[0].sentinelConf, operatorCredentialsPath: cluster.operatorFile });
        const result = spawnSync("bash", ["-s"], { input: script, encoding: "utf8", timeout: 90000 });
        return { status: result.status, lines: result.stdout.trim().split("\n"), stderr: result.stderr };
    };

    beforeAll(async () => {
        cluster = await LocalCluster.start();
        // Sentinels learn the replicas from the master's INFO (every 10 s at first).
        await waitFor("every Sentinel to know both replicas", () => cluster.nodes.every((n) => (cli(n, ["SENTINEL", "REPLICAS", cluster.masterName], n.sentinelPort, SENTINEL_PASSWORD).match(/^flags\nslave$/gm) ?? []).length === 2), 30000,
            () => cli(cluster.nodes[0], ["SENTINEL", "REPLICAS", cluster.masterName], cluster.nodes[0].sentinelPort, SENTINEL_PASSWORD));
    }, 60000);
    afterAll(async () => {
        await cluster?.destroy();
    });

    test("with a Sentinel down it refuses and changes nothing", async () => {
        const down = cluster.nodes[2];
        await cluster.stop(down.sentinel);
        try {
            const { status, lines } = switchover();
            expect(status).toBe(1);
            expect(lines.find((l) => l.startsWith("FAIL "))).toBe(`FAIL sentinel ${down.address}:${down.sentinelPort} cannot name master redis-ha: Could not connect to Redis at ${down.address}:${down.sentinelPort}: Connection refused: nothing was changed`);
            expect(cli(cluster.nodes[0], ["ROLE"]).split("\n")[0]).toBe("master");
        } finally {
            await cluster.startSentinel(down);
        }
    }, 60000);

    test("from a settled cluster it hands over to a replica with writes paused, and every acknowledged write is there", async () => {
        const old = cluster.nodes[0];
        for (let i = 0; i < 200; i++) cli(old, ["RPUSH", "switchover:writes", String(i)]);
        // A client of the old master, as an app would hold one: it must be dropped so that it reconnects
        // through the Sentinels, not left on a node that no longer takes writes.
        const held = spawn("redis-cli", ["-h", old.address, "-p", String(old.redisPort)], { stdio: ["pipe", "ignore", "ignore"], env: { ...process.env, REDISCLI_AUTH: REDIS_PASSWORD } });
        held.stdin!.write("CLIENT SETNAME held-before-switchover\n");
        await waitFor("the app's client to be connected", () => cli(old, ["CLIENT", "LIST"]).includes("name=held-before-switchover"), 10000);
        let result: ReturnType<typeof switchover>;
        try {
            result = switchover();
        } finally {
            held.kill();
        }
        const { status, lines, stderr } = result;
        expect(stderr).toBe("");
        expect(status).toBe(0);
        expect(lines).toContain(`MASTER ${at(old)}`);
        expect(lines.some((l) => l.startsWith("PAUSED "))).toBe(true);
        const switched = lines.find((l) => l.startsWith("SWITCHED "))!;
        const promoted = cluster.nodes.find((n) => switched === `SWITCHED ${at(old)} -> ${at(n)}`);
        expect(promoted).toBeDefined();
        expect(promoted).not.toBe(old);
        expect(cli(promoted!, ["ROLE"]).split("\n")[0]).toBe("master");
        expect(cli(promoted!, ["LLEN", "switchover:writes"])).toBe("200");
        // By the time the script returns, the old master already follows the new one (the Sentinels
        // alone would take up to 18 s), has saved that, and has dropped the app's client.
        expect(cli(old, ["ROLE"]).split("\n").slice(0, 3)).toEqual(["slave", promoted!.address, String(promoted!.redisPort)]);
        expect(fs.readFileSync(path.join(old.dir, "redis.conf"), "utf8")).toMatch(new RegExp(`^replicaof ${promoted!.address.replace(/\./g, "\\.")} ${promoted!.redisPort}$`, "m"));
        expect(cli(old, ["CLIENT", "LIST"])).not.toContain("name=held-before-switchover");
        expect(lines).not.toContainEqual(expect.stringMatching(/^NOTE /));
    }, 90000);
});
