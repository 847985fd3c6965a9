/**
 * The boot guard, run for real on loopback against a real Redis set and scripted Sentinels: it
 * makes a restarting node the replica of the master the Sentinels name, and only of a node that
 * answers as a master. The second case is what a VM test's first boot hit: the only Sentinel that
 * answered was a replica's with a wrong master address, and the real master became a replica of an
 * address where nothing runs.
 */
import * as fs from "fs";
import * as path from "path";
import { renderBootGuard } from "../../cloud-init/bootGuard";
import { runAsync } from "../../components/platforms/lab/shell";
import { FakeSentinel } from "../support/fakeSentinel";
import { LocalCluster, redisAvailable } from "../support/localRedis";
import { SENTINEL_PASSWORD } from "../support/fixtures";

if (!redisAvailable) console.warn("\n!!! SKIPPED: redis-server/redis-sentinel are not installed; the boot guard is NOT exercised. Run `npm run setup`. !!!\n");
const maybe = redisAvailable ? describe : describe.skip;

maybe("the boot guard before a redis-server start", () => {
    let cluster: LocalCluster;
    const fakes: FakeSentinel[] = [];

    beforeAll(async () => {
        cluster = await LocalCluster.start();
    }, 60000);
    afterAll(async () => {
        for (const f of fakes) await f.close();
        await cluster?.destroy();
    });

    /** Runs the guard of a node at 127.0.0.5 (no Sentinel answers for it) whose Sentinels all name `named`. */
    async function guardWith(named: { host: string; port: number }): Promise<{ said: string; conf: string }> {
        const dir = fs.mkdtempSync(path.join(cluster.root, "guard-"));
        const conf = path.join(dir, "redis.conf");
        // The restarting node's own redis.conf: the master's password and a stale replicaof from the past.
        const masterauth = fs.readFileSync(path.join(cluster.nodes[0].dir, "redis.conf"), "utf8").match(/^masterauth .*$/m)?.[0];
        expect(masterauth).toBeDefined();
        fs.writeFileSync(conf, `bind 127.0.0.5\nport 6379\n${masterauth}\nreplicaof 127.0.0.9 6379\n`);
        const passwordFile = path.join(dir, "sentinel-password");
        fs.writeFileSync(passwordFile, `${SENTINEL_PASSWORD}\n`, { mode: 0o600 });
        const sentinels = [];
        for (let i = 0; i < 2; i++) {
            const fake = await FakeSentinel.start(cluster.masterName, named);
            fakes.push(fake);
            sentinels.push(`127.0.0.1:${fake.port}`);
        }
        const script = renderBootGuard({ hostName: "guarded", masterName: cluster.masterName, sentinels, passwordFile, redisConfPath: conf, sentinelConfPath: path.join(dir, "none.conf") });
        // Not spawnSync: the scripted Sentinels answer from this process's event loop.
        const run = await runAsync(["bash", "-s"], { input: script, timeoutMs: 30000 });
        expect(run.status).toBe(0);
        return { said: run.stdout.trim(), conf: fs.readFileSync(conf, "utf8") };
    }

    test("the Sentinels name a serving master: the node starts as its replica", async () => {
        const master = cluster.nodes[0];
        const { said, conf } = await guardWith({ host: master.address, port: master.redisPort });
        expect(said).toBe(`redis-ha boot guard: the Sentinels name ${master.address}:${master.redisPort} as master: starting as its replica`);
        expect(conf.match(/^replicaof .*$/gm)).toEqual([`replicaof ${master.address} ${master.redisPort}`]);
    });

    test.each([
        ["an address where nothing listens", () => ({ host: "127.0.0.1", port: 1 }), /\(.*refused.*\)/],
        ["a node that is a replica", () => ({ host: cluster.nodes[1].address, port: cluster.nodes[1].redisPort }), /\(slave\)/],
    ])("the Sentinels name %s: the node starts as configured, and says why", async (_what, named, why) => {
        const target = named();
        const { said, conf } = await guardWith(target);
        expect(said).toMatch(new RegExp(`^redis-ha boot guard: the Sentinels name ${target.host.replace(/\./g, "\\.")}:${target.port} as master, but it does not answer as one `));
        expect(said).toMatch(why);
        expect(said).toMatch(/: starting as configured$/);
        // Untouched: the stale replicaof is still the one from before.
        expect(conf.match(/^replicaof .*$/gm)).toEqual(["replicaof 127.0.0.9 6379"]);
    });
});
