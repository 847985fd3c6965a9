/**
 * The WordPress page that met a master the moment its host was lost (a fresh-clone CI run's
 * host-loss drill, 1 page in 13): redis-ha's drop-in had waited for a master and found one, then the
 * plugin's start asked the Sentinels again, was named the same master, whose host was gone by then,
 * and its `switchToMaster()` (outside Predis's retries) gave the shopper the plugin's error page,
 * although a new master was seconds away. A real failover cannot be timed into that gap; a scripted
 * Sentinel on loopback can: it names the real master until the plugin's first command has gone to
 * the replica, then a master that is gone (a port nobody listens on) for three lookups, then the
 * real one again, as the Sentinels would after electing a new master. No step waits for a clock.
 * The master and its replica are real redis-servers; the plugin is the vendored one, with its
 * Predis; WordPress itself is replaced by the few functions the plugin calls before a page renders.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { WORDPRESS_OBJECT_CACHE } from "../../components/core/wordpressObjectCache";
import { VENDOR_DIR } from "../../lab/wordpress";
import { waitFor } from "../../lab/drill";
import { Endpoint, FakeSentinel } from "../support/fakeSentinel";
import { portNobodyListensOn, startRedis } from "../support/loopbackRedis";

const PLUGIN_ARCHIVE = path.join(VENDOR_DIR, "redis-cache-2.6.3.tar.gz");
const missing = [
    spawnSync("redis-server", ["--version"]).status === 0 ? undefined : "redis-server is not installed (npm run setup)",
    spawnSync("php", ["--version"]).status === 0 ? undefined : "php is not installed (npm run setup)",
    fs.existsSync(PLUGIN_ARCHIVE) ? undefined : `the Redis Object Cache plugin is not at ${PLUGIN_ARCHIVE} (set REDIS_HA_VENDOR_DIR)`,
].filter(Boolean);
if (missing.length) {
    console.warn(`\n!!! SKIPPED: the WordPress drop-in's host-loss race cannot be played: ${missing.join("; ")} !!!\n`);
}
const maybe = missing.length ? describe.skip : describe;

/** The page's start as WordPress makes it, with WordPress's functions that the plugin calls stood in for. */
const PAGE = String.raw`<?php
list(, $plugin, $dropIn, $constants) = $argv;
define('ABSPATH', __DIR__ . '/');
define('WP_CONTENT_DIR', __DIR__);
define('WP_LANG_DIR', __DIR__);
define('WP_REDIS_PLUGIN_PATH', $plugin);
foreach (json_decode($constants, true) as $name => $value) {
    define($name, $value);
}
function add_filter() { return true; }
function apply_filters($hook, $value) { return $value; }
function wp_load_translations_early() {}
function load_textdomain() { return true; }
require $dropIn;
wp_cache_init(); // as wp_start_object_cache() does after loading the drop-in
$cache = $GLOBALS['wp_object_cache'];
echo 'PAGE ', json_encode(['redis' => $cache->redis_status(), 'set' => $cache->redis_status() && $cache->set('cart', 'placed', 'redis-ha-race')]), "\n";
`;

maybe("the WordPress drop-in when the master's host is lost between its wait and the plugin's start", () => {
    let workDir: string;
    let plugin: string;
    let master: { process: ReturnType<typeof spawn>; port: number } | undefined;
    let replica: { process: ReturnType<typeof spawn>; port: number } | undefined;
    let sentinel: FakeSentinel | undefined;
    let gone: Endpoint;

    beforeAll(async () => {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-wp-race-"));
        fs.mkdirSync(path.join(workDir, "master"));
        fs.mkdirSync(path.join(workDir, "replica"));
        master = await startRedis(path.join(workDir, "master"));
        replica = await startRedis(path.join(workDir, "replica"), ["--replicaof", "127.0.0.1", String(master.port)]);
        sentinel = await FakeSentinel.start("redis-ha", { host: "127.0.0.1", port: master.port });
        sentinel.replicas = [{ host: "127.0.0.1", port: replica.port }];
        gone = { host: "127.0.0.1", port: await portNobodyListensOn() };
        const plugins = path.join(workDir, "plugins");
        fs.mkdirSync(plugins);
        const untar = spawnSync("tar", ["xzf", PLUGIN_ARCHIVE, "-C", plugins], { encoding: "utf8" });
        if (untar.status !== 0) throw new Error(`unpacking the plugin: ${untar.stderr}`);
        plugin = path.join(plugins, "redis-cache");
        fs.writeFileSync(path.join(workDir, "page.php"), PAGE);
        fs.writeFileSync(path.join(workDir, "object-cache.php"), WORDPRESS_OBJECT_CACHE);
        // The plugin's error page, in a form the test can recognise (the plugin loads this file if present).
        fs.writeFileSync(path.join(workDir, "redis-error.php"), "<?php echo \"ERROR PAGE\\n\";\n");
        await waitFor("the replica to be in sync", () => /master_link_status:up/.test(spawnSync("redis-cli", ["-p", String(replica!.port), "INFO", "replication"], { encoding: "utf8" }).stdout ?? ""), 15000);
    });

    afterAll(async () => {
        await sentinel?.close();
        replica?.process.kill("SIGKILL");
        master?.process.kill("SIGKILL");
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    /**
     * From the first lookup after the plugin asked for the replicas (its first command goes to one),
     * the Sentinel names the gone master for `lookupsGone` lookups (forever when undefined).
     */
    function loseTheMasterAfterTheWait(lookupsGone?: number): void {
        let goneFrom: number | undefined;
        const replicaLookupsBefore = sentinel!.replicaLookups;
        sentinel!.masterForLookup = (n) => {
            if (goneFrom === undefined && sentinel!.replicaLookups > replicaLookupsBefore) goneFrom = n;
            return goneFrom !== undefined && (lookupsGone === undefined || n < goneFrom + lookupsGone) ? gone : undefined;
        };
    }

    /** One page start, as its own php process (asynchronous: the scripted Sentinel answers from this one). */
    async function page(dropIn: string, constants: Record<string, unknown>): Promise<{ stdout: string; stderr: string; result?: { redis: boolean; set: boolean } }> {
        const child = spawn("php", ["-d", "display_errors=stderr", path.join(workDir, "page.php"), plugin, dropIn, JSON.stringify({
            WP_REDIS_CLIENT: "predis", WP_REDIS_SENTINEL: "redis-ha", WP_REDIS_SERVERS: [`tcp://127.0.0.1:${sentinel!.port}`], ...constants,
        })]);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const killer = setTimeout(() => child.kill("SIGKILL"), 60000);
        await new Promise<void>((resolve) => child.on("close", () => resolve()));
        clearTimeout(killer);
        const line = /^PAGE (\{.*\})$/m.exec(stdout);
        return { stdout, stderr, result: line ? JSON.parse(line[1]) : undefined };
    }

    afterEach(() => {
        sentinel!.masterForLookup = undefined;
        spawnSync("redis-cli", ["-p", String(master!.port), "FLUSHALL"]);
    });

    test("the plugin's own drop-in: the shopper gets the plugin's error page (the fault is real)", async () => {
        loseTheMasterAfterTheWait(3);
        const shown = await page(path.join(plugin, "includes", "object-cache.php"), {});
        expect(shown.result).toBeUndefined();
        expect(shown.stdout).toContain("ERROR PAGE");
    });

    test("redis-ha's drop-in: the page waits for the master the Sentinels name next and writes to it", async () => {
        loseTheMasterAfterTheWait(3);
        const shown = await page(path.join(workDir, "object-cache.php"), { WP_REDIS_HA_WAIT_MS: 20000 });
        expect({ result: shown.result, errorPage: shown.stdout.includes("ERROR PAGE") }).toEqual({ result: { redis: true, set: true }, errorPage: false });
        expect(shown.stderr).toMatch(/redis-ha object cache: the plugin could not connect \(.*\); a master answers again: try 2/);
        expect(spawnSync("redis-cli", ["-p", String(master!.port), "--scan", "--pattern", "*redis-ha-race*cart*"], { encoding: "utf8" }).stdout.trim()).not.toBe("");
    });

    test("no master within WP_REDIS_HA_WAIT_MS: what the site chose, the plugin's error page or, with WP_REDIS_GRACEFUL, a page without Redis", async () => {
        loseTheMasterAfterTheWait();
        const strict = await page(path.join(workDir, "object-cache.php"), { WP_REDIS_HA_WAIT_MS: 1500 });
        expect(strict.stdout).toContain("ERROR PAGE");
        expect(strict.stderr).toMatch(/the plugin could not connect and there is no master for redis-ha yet: .*unreachable/);
        loseTheMasterAfterTheWait();
        const graceful = await page(path.join(workDir, "object-cache.php"), { WP_REDIS_HA_WAIT_MS: 1500, WP_REDIS_GRACEFUL: true });
        expect(graceful.result).toEqual({ redis: false, set: false });
    });
});
