/**
 * The boot guard, run for real on loopback against a real Redis set and scripted Sentinels: it
 * makes a restarting node the replica of the master the Sentinels name, and only of a node that
 * answers as a master. The second case is what a VM test's first boot hit: the only Sentinel that
 * answered was a replica's with a wrong master address, and the real master became a replica of an
 * address where nothing runs.
 */
import * as fs from "fs";
import * as path from "path";
import { renderBootGuard, renderBootGuardInstall } from "../../cloud-init/bootGuard";
import { spawnSync } from "child_process";
import * as os from "os";
import { runAsync } from "../../components/platforms/lab/shell";
import { FakeSentinel } from "../support/fakeSentinel";
import { LocalCluster, redisAvailable } from "../support/localRedis";
import { REDIS_PASSWORD, SENTINEL_PASSWORD } from "../support/fixtures";
import { OPERATOR_USER } from "../../components/core/aclUsers";

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

    /**
     * Runs the guard of a node at 127.0.0.5 (no Sentinel answers for it) whose Sentinels all name
     * `named`. Its redis.conf holds its replication login as rendered (masteruser and masterauth), or
     * with `madeBefore` as a node made before the replication user had it (masterauth, the stack's password).
     */
    async function guardWith(named: { host: string; port: number }, madeBefore = false): Promise<{ said: string; conf: string }> {
        const dir = fs.mkdtempSync(path.join(cluster.root, "guard-"));
        const conf = path.join(dir, "redis.conf");
        const rendered = fs.readFileSync(path.join(cluster.nodes[0].dir, "redis.conf"), "utf8");
        const login = madeBefore ? [`masterauth ${REDIS_PASSWORD}`] : rendered.match(/^(masteruser|masterauth) .*$/gm) ?? [];
        expect(login).toHaveLength(madeBefore ? 1 : 2);
        // ...and a stale replicaof from the past.
        fs.writeFileSync(conf, `bind 127.0.0.5\nport 6379\n${login.join("\n")}\nreplicaof 127.0.0.9 6379\n`);
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

    test.each([
        ["", false],
        [" (a node made before the replication user asks with the stack's password)", true],
    ])("the Sentinels name a serving master: the node starts as its replica%s", async (_made, madeBefore) => {
        const master = cluster.nodes[0];
        const { said, conf } = await guardWith({ host: master.address, port: master.redisPort }, madeBefore);
        expect(said).toBe(`redis-ha boot guard: the Sentinels name ${master.address}:${master.redisPort} as master: starting as its replica`);
        expect(conf.match(/^replicaof .*$/gm)).toEqual([`replicaof ${master.address} ${master.redisPort}`]);
    });

    test("a named master that does not answer at first (paused, as a new master forking for its replicas can be) is asked again: the node still starts as its replica", async () => {
        const master = cluster.nodes[0];
        const paused = spawnSync("redis-cli", ["-h", master.address, "-p", String(master.redisPort), "--no-auth-warning", "--user", OPERATOR_USER, "CLIENT", "PAUSE", "4000", "ALL"], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: REDIS_PASSWORD } });
        expect(paused.stdout.trim()).toBe("OK");
        const { said, conf } = await guardWith({ host: master.address, port: master.redisPort });
        expect(said).toBe(`redis-ha boot guard: the Sentinels name ${master.address}:${master.redisPort} as master: starting as its replica`);
        expect(conf.match(/^replicaof .*$/gm)).toEqual([`replicaof ${master.address} ${master.redisPort}`]);
    }, 40000);

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

describe("bringing a running host's boot guard up to date", () => {
    let dir: string;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-guard-install-")); });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const guard = (sentinels: string[]) => renderBootGuard({ hostName: "rha-redis-1", masterName: "redis-ha", sentinels, passwordFile: "/etc/redis-ha/sentinel-password" });
    const install = (file: string, script: string) => spawnSync("bash", ["-s"], { input: renderBootGuardInstall({ script, path: file }), encoding: "utf8", timeout: 10000 });

    test("a guard from an earlier redis-ha is replaced by today's, root-only and executable; a second run finds it the same", () => {
        const file = path.join(dir, "redis-ha-boot-guard");
        fs.writeFileSync(file, "#!/bin/bash\n# an earlier redis-ha's guard\n", { mode: 0o700 });
        const today = guard(["10.42.0.11:26379"]);
        const first = install(file, today);
        expect({ status: first.status, out: first.stdout.trim() }).toEqual({ status: 0, out: "UPDATED boot guard" });
        expect(fs.readFileSync(file, "utf8")).toBe(today.endsWith("\n") ? today : `${today}\n`);
        expect(fs.statSync(file).mode & 0o777).toBe(0o700);
        // Nothing left beside it.
        expect(fs.readdirSync(dir)).toEqual(["redis-ha-boot-guard"]);
        expect(install(file, today).stdout.trim()).toBe("SAME boot guard");
        // And the installed guard is the one that runs: bash reads it as a whole script.
        expect(spawnSync("bash", ["-n", file]).status).toBe(0);
    });

    test("a host with no guard gets none", () => {
        const file = path.join(dir, "redis-ha-boot-guard");
        const run = install(file, guard([]));
        expect({ status: run.status, out: run.stdout.trim() }).toEqual({ status: 0, out: "NOGUARD this host has no boot guard to update" });
        expect(fs.existsSync(file)).toBe(false);
    });
});
