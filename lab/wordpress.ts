/**
 * A real WordPress shop in the lab: Debian's WordPress and MariaDB, the Redis Object Cache plugin
 * from ../shared/vendor, and wp-config.php built from the stack's own `clients.wordpress` output.
 * Every page view is a fresh php-cgi process in the lab's app namespace (the opcache is shared
 * through files, as PHP-FPM's would be through memory), so each one connects, asks the Sentinels
 * and starts the plugin the way a real request does.
 */
import { clientEnvironmentOf } from "../components/core/aclUsers";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { renderClientSnippets } from "../components/core/clientConfig";
import { WORDPRESS_OBJECT_CACHE } from "../components/core/wordpressObjectCache";
import type { Lab } from "./runtime";
import { REPO_ROOT } from "./runtime";
import { sleep } from "../components/platforms/lab/shell";

const WORDPRESS_DIR = "/usr/share/wordpress";
const PLUGIN_ARCHIVE = "redis-cache-2.6.3.tar.gz";
/** ../shared/vendor from the project's root, as ../shared/vendor/README.md documents; REDIS_HA_VENDOR_DIR overrides. */
export const VENDOR_DIR = process.env.REDIS_HA_VENDOR_DIR ?? path.resolve(REPO_ROOT, "..", "shared", "vendor");

/**
 * What each page view runs, side by side in `npm run bench:wordpress`. "plugin" is the plugin's
 * own drop-in with `clients.wordpress` as a user pastes it; "redis-ha" is what redis-ha ships.
 */
export const WORDPRESS_SETUPS = {
    "plugin": { dropIn: "plugin", defines: {}, what: "the plugin's own drop-in and clients.wordpress" },
    "plugin-graceful": { dropIn: "plugin", defines: { WP_REDIS_GRACEFUL: true }, what: "the same with WP_REDIS_GRACEFUL" },
    "plugin-timeouts": { dropIn: "plugin", defines: { WP_REDIS_TIMEOUT: 0.3, WP_REDIS_READ_TIMEOUT: 0.5 }, what: "the plugin's own drop-in with short timeouts (0.3 s connect, 0.5 s read; default 1 s each)" },
    "redis-ha": { dropIn: "redis-ha", defines: {}, what: "redis-ha's drop-in (clients.wordpressObjectCache), as shipped" },
    "redis-ha-replica-reads": { dropIn: "redis-ha", defines: { WP_REDIS_HA_REPLICA_READS: true }, what: "redis-ha's drop-in with WP_REDIS_HA_REPLICA_READS" },
} as const;
export type WordPressSetup = keyof typeof WORDPRESS_SETUPS;

/** Why this machine cannot run the WordPress drills, or undefined when it can. */
export function wordpressUnavailableReason(): string | undefined {
    for (const [file, pkg] of [["/usr/bin/php-cgi", "php-cgi"], ["/usr/sbin/mariadbd", "mariadb-server"], [`${WORDPRESS_DIR}/wp-settings.php`, "wordpress"]]) {
        if (!fs.existsSync(file)) return `${file} is missing: Debian's ${pkg} is not installed (npm run setup)`;
    }
    if (spawnSync("php-cgi", ["-m"], { encoding: "utf8" }).stdout?.includes("mysqli") !== true) return "php-cgi has no mysqli: Debian's php-mysql is not installed (npm run setup)";
    const archive = path.join(VENDOR_DIR, PLUGIN_ARCHIVE);
    if (!fs.existsSync(archive)) return `the Redis Object Cache plugin is not at ${archive} (../shared/vendor, or set REDIS_HA_VENDOR_DIR)`;
    const sums = path.join(VENDOR_DIR, "SHA256SUMS");
    const expected = fs.existsSync(sums) ? new RegExp(`^([0-9a-f]{64})\\s+\\*?${PLUGIN_ARCHIVE.replace(/\./g, "\\.")}$`, "m").exec(fs.readFileSync(sums, "utf8"))?.[1] : undefined;
    const actual = crypto.createHash("sha256").update(fs.readFileSync(archive)).digest("hex");
    if (expected !== actual) return `${archive} does not match its line in ${sums} (${expected ?? "none"}): not the archive the drills were written for`;
    return undefined;
}

export interface PageView {
    shopper: number;
    n: number;
    startedAt: number;
    endedAt: number;
    /** The page rendered (the drill's JSON line came back), with or without Redis. */
    rendered: boolean;
    /** It rendered with Redis: the plugin was connected throughout its start. */
    ok: boolean;
    /** The order this shopper's previous page placed, which this page marks paid. */
    previous?: number;
    /** What the shopper's cart read back: the value their previous page wrote, if nothing was stale. */
    seen?: string | null;
    expected?: string;
    /** wp_cache_set's answer for the order this page recorded. */
    ack?: boolean;
    wrote?: boolean;
    /** This page flushed the object cache (redis-ha's drop-in, after a failover). */
    flushed?: boolean;
    /** Why the page failed: the plugin's logged exception, or the page's start. */
    problem?: string;
}

export class WordPressSite {
    private mariadb?: ChildProcess;
    private setup: WordPressSetup = "redis-ha";
    private lastOrder = 1000;

    /** Order numbers are the site's, not a drill's: each drill's orders are its own to audit. */
    nextOrder(): number { return ++this.lastOrder; }

    private constructor(private readonly lab: Lab, readonly dir: string) {}

    get site(): string { return path.join(this.dir, "site"); }
    private get socket(): string { return path.join(this.dir, "mysql.sock"); }
    private get app(): string { return this.lab.network.app.namespace; }

    /** MariaDB and WordPress in the lab's app namespace, installed, with the plugin active and `setup` in place. */
    static async create(lab: Lab, setup: WordPressSetup = "redis-ha"): Promise<WordPressSite> {
        const why = wordpressUnavailableReason();
        if (why) throw new Error(`WordPress drills: ${why}`);
        const site = new WordPressSite(lab, path.join(lab.dir, "wordpress"));
        try {
            await site.install(setup);
        } catch (e) {
            site.close();
            throw e;
        }
        return site;
    }

    private async install(setup: WordPressSetup): Promise<void> {
        fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        if (this.socket.length > 100) throw new Error(`the MariaDB socket path ${this.socket} is longer than a Unix socket allows; use a shorter lab state directory`);
        const datadir = path.join(this.dir, "db");
        must(spawnSync("mariadb-install-db", ["--no-defaults", `--datadir=${datadir}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"], { encoding: "utf8", timeout: 60000 }), "mariadb-install-db");
        // In the app namespace, like the shop's own database server; only its Unix socket is used.
        this.mariadb = spawn("ip", ["netns", "exec", this.app, "mariadbd", "--no-defaults", `--datadir=${datadir}`, `--socket=${this.socket}`,
            "--skip-networking", "--user=root", `--pid-file=${path.join(this.dir, "mariadb.pid")}`, `--log-error=${path.join(this.dir, "mariadb.log")}`], { stdio: "ignore" });
        const until = Date.now() + 30000;
        while (!this.sql("SELECT 1").ok && Date.now() < until) await sleep(100);
        const created = this.sql("CREATE DATABASE wordpress; CREATE USER 'wordpress'@'localhost' IDENTIFIED BY 'wordpress'; GRANT ALL ON wordpress.* TO 'wordpress'@'localhost';");
        if (!created.ok) throw new Error(`MariaDB did not come up within 30 s: ${created.output}\n${readTail(path.join(this.dir, "mariadb.log"))}`);

        must(spawnSync("cp", ["-r", `${WORDPRESS_DIR}/.`, this.site], { encoding: "utf8" }), "copying WordPress");
        for (const own of ["wp-config.php", "wp-content", ".htaccess"]) fs.rmSync(path.join(this.site, own), { recursive: true, force: true });
        const plugins = path.join(this.site, "wp-content", "plugins");
        fs.mkdirSync(plugins, { recursive: true });
        fs.mkdirSync(path.join(this.site, "wp-content", "mu-plugins"));
        must(spawnSync("tar", ["xzf", path.join(VENDOR_DIR, PLUGIN_ARCHIVE), "-C", plugins], { encoding: "utf8" }), "unpacking the plugin");
        fs.copyFileSync(path.join(__dirname, "wordpress", "redis-ha-drill.php"), path.join(this.site, "wp-content", "mu-plugins", "redis-ha-drill.php"));
        this.writeConfig(setup);
        // Installed without the object cache, as a new site is; the drop-in comes after.
        const installed = this.php([path.join(__dirname, "wordpress", "install.php"), this.site]);
        if (!installed.stdout.includes("installed")) throw new Error(`WordPress did not install: ${installed.stdout}\n${installed.stderr}`);
        this.installDropIn(setup);
    }

    /** wp-config.php: the database, then `clients.wordpress` verbatim, then the setup's own defines. */
    private writeConfig(setup: WordPressSetup): void {
        const settings = this.lab.settings;
        const sentinels = this.lab.network.hosts.filter((h) => h.plan.sentinel).map((h) => `${h.address}:${settings.sentinelPort}`);
        const snippet = renderClientSnippets({ masterName: settings.masterName, sentinels, sentinelAuth: settings.sentinelAuth !== false, minReplicasToWrite: settings.minReplicasToWrite, sentinelTimings: settings }).wordpress;
        const defines = Object.entries(WORDPRESS_SETUPS[setup].defines).map(([name, value]) => `define('${name}', ${JSON.stringify(value)});`).join("\n");
        fs.writeFileSync(path.join(this.site, "wp-config.php"), `<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', 'wordpress');
define('DB_HOST', 'localhost:${this.socket}');
define('DB_CHARSET', 'utf8mb4');
define('WP_HOME', 'http://shop.test');
define('WP_SITEURL', 'http://shop.test');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
$table_prefix = 'wp_';

// The lab's tests only: a page may set the drop-in's settings through its environment. Defined
// before clients.wordpress, these win (its own define then only warns).
foreach (['WP_REDIS_HA_MIN_REPLICAS', 'WP_REDIS_HA_REPLICA_WAIT_MS', 'WP_REDIS_HA_WAIT_MS'] as $redis_ha_lab_setting) {
    if (getenv("LAB_$redis_ha_lab_setting") !== false) {
        define($redis_ha_lab_setting, (int) getenv("LAB_$redis_ha_lab_setting"));
    }
}

${snippet}
${defines}

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
`);
    }

    /** Puts `setup` in place: its wp-config.php defines and its object-cache.php drop-in. */
    use(setup: WordPressSetup): void {
        this.writeConfig(setup);
        this.installDropIn(setup);
    }

    private installDropIn(setup: WordPressSetup): void {
        const dropIn = path.join(this.site, "wp-content", "object-cache.php");
        if (WORDPRESS_SETUPS[setup].dropIn === "plugin") fs.copyFileSync(path.join(this.site, "wp-content", "plugins", "redis-cache", "includes", "object-cache.php"), dropIn);
        else fs.writeFileSync(dropIn, WORDPRESS_OBJECT_CACHE);
        // Compiled copies of the old files must not outlive them.
        fs.rmSync(path.join(this.dir, "opcache"), { recursive: true, force: true });
        fs.mkdirSync(path.join(this.dir, "opcache"));
        this.setup = setup;
    }

    get current(): WordPressSetup { return this.setup; }

    private env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
        // What an app gets (clientEnvironment): the app user, never the stack's Redis password.
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...clientEnvironmentOf(this.lab.secrets.redisPassword, this.lab.secrets.sentinelPassword ?? "") };
        return { ...env, ...extra };
    }

    private php(args: string[], env: NodeJS.ProcessEnv = {}) {
        return spawnSync("ip", ["netns", "exec", this.app, "php", ...args], { encoding: "utf8", env: this.env(env), timeout: 60000 });
    }

    private sql(statements: string): { ok: boolean; output: string } {
        const r = spawnSync("mariadb", ["--no-defaults", "-S", this.socket, "-u", "root", "-e", statements], { encoding: "utf8", timeout: 10000 });
        return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
    }

    /**
     * One page view as a shopper's browser makes it: a fresh php-cgi process, bounded at 30 s.
     * `env` replaces variables of the app's environment (a test leaves one out to see it refused).
     */
    async view(shopper: number, n: number, previous?: number, env: NodeJS.ProcessEnv = {}): Promise<Omit<PageView, "expected">> {
        const query = `redis_ha_drill=1&shopper=${shopper}&n=${n}${previous ? `&previous=${previous}` : ""}`;
        const startedAt = Date.now();
        const child = spawn("ip", ["netns", "exec", this.app, "php-cgi",
            "-d", "opcache.enable=1", "-d", `opcache.file_cache=${path.join(this.dir, "opcache")}`, "-d", "opcache.file_cache_only=1",
            "-d", "display_errors=0", "-d", "log_errors=1"], {
            env: this.env({
                GATEWAY_INTERFACE: "CGI/1.1", SERVER_PROTOCOL: "HTTP/1.1", REQUEST_METHOD: "GET", REDIRECT_STATUS: "200",
                SCRIPT_FILENAME: path.join(this.site, "index.php"), SCRIPT_NAME: "/index.php", REQUEST_URI: `/?${query}`, QUERY_STRING: query,
                HTTP_HOST: "shop.test", SERVER_NAME: "shop.test", SERVER_PORT: "80", REMOTE_ADDR: "192.0.2.10", ...env,
            }),
        });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        const killer = setTimeout(() => child.kill("SIGKILL"), 30000);
        await new Promise<void>((resolve) => child.on("close", () => resolve()));
        clearTimeout(killer);
        const endedAt = Date.now();
        const line = /^REDIS-HA-DRILL (\{.*\})$/m.exec(stdout);
        if (!line) {
            const exception = /(Predis\\\S+|RuntimeException|Exception)[^\n]*/.exec(stderr)?.[0];
            const heading = /<h1>([^<]*)<\/h1>/.exec(stdout)?.[1];
            // Where it was thrown from, past Predis's own frames: what a failed drill needs to be diagnosed.
            const frames = stderr.split("\n").filter((l) => /^#\d+ /.test(l) && !l.includes("/predis/src/")).slice(0, 3).map((l) => l.replace(/^#\d+ \S*\/(wp-content|wp-includes)\//, "$1/"));
            return { shopper, n, previous, startedAt, endedAt, rendered: false, ok: false, problem: [[heading, exception ?? stderr.trim().split("\n").pop()].filter(Boolean).join(": ").slice(0, 300), ...frames].join(" <- ") || `no output (exit ${child.exitCode ?? child.signalCode})` };
        }
        const page = JSON.parse(line[1]);
        return { shopper, n, previous, startedAt, endedAt, rendered: true, ok: page.redis === true, seen: page.seen, ack: page.ack, wrote: page.wrote, flushed: page.flushed,
            problem: page.redis === true ? undefined : "rendered without Redis (the plugin failed over to its runtime cache)" };
    }

    /** Cache against database, and acknowledged cache writes against Redis, through WordPress. */
    audit(options: readonly string[], acked: ReadonlyArray<[number, number]>): { external: boolean; redis: boolean; stale: Array<{ option: string; cache: string; database: string }>; missing: Array<[number, number]> } {
        const input = path.join(this.dir, "audit-input.json");
        fs.writeFileSync(input, JSON.stringify({ options, acked }));
        const r = this.php([path.join(__dirname, "wordpress", "audit.php"), this.site, input]);
        const line = /^REDIS-HA-AUDIT (\{.*\})$/m.exec(r.stdout);
        if (!line) throw new Error(`the WordPress audit printed nothing (exit ${r.status}): ${r.stdout.slice(0, 500)}\n${r.stderr.slice(0, 1000)}`);
        return JSON.parse(line[1]);
    }

    /** The plugin's Diagnostics tab, as a WordPress admin sees it. */
    diagnostics(): string {
        const r = this.php([path.join(__dirname, "wordpress", "diagnostics.php"), this.site]);
        if (r.status !== 0) throw new Error(`the plugin's diagnostics failed (exit ${r.status}): ${r.stdout.slice(0, 500)}\n${r.stderr.slice(0, 1000)}`);
        return r.stdout;
    }

    close(): void {
        // `ip netns exec` execs mariadbd, so the child is the server itself: no PID file to trust.
        if (this.mariadb && this.mariadb.exitCode === null && this.mariadb.signalCode === null) this.mariadb.kill("SIGKILL");
    }
}

export interface ShopFigures {
    setup: WordPressSetup;
    views: number;
    /** Pages the shopper did not get: the plugin's error page ("Error establishing a Redis connection"). */
    errorPages: number;
    /** Pages rendered from the database alone (WP_REDIS_GRACEFUL), their cache writes dropped. */
    withoutRedis: number;
    slowestMs: number;
    /** A cart read back without the shopper's previous (completed) page's write. */
    staleReads: number;
    /** Orders wp_cache_set acknowledged that Redis does not have, counted from after the last flush. */
    ackedMissing: number;
    /** Entries the drill wrote (carts, orders) that, after recovery, the cache serves unlike the database. */
    staleEntries: number;
    /** Pages that flushed the object cache (redis-ha's drop-in, after a failover). */
    flushes: number;
    problems: string[];
}

export interface ShopTrafficOptions {
    /** Shoppers, each viewing a page a second. Default 3. */
    shoppers?: number;
    /** Default 1000 ms. */
    intervalMs?: number;
    /** No page starts after this. Default 600 s. */
    maxSeconds?: number;
    /**
     * One more page that reads its cart and then holds, its Redis connection open, until the drill's
     * fault is in place, so that one page is surely in flight across the fault (at 3 views a second
     * a page in flight is otherwise a matter of luck). Default false.
     */
    holdOnePageAcrossTheFault?: boolean;
}

/**
 * Shoppers, each viewing a page a second (the next only once the last one ended), so `shoppers`
 * views a second in all. Each page reads the shopper's cart, records an order and writes the cart.
 */
export class ShopTraffic {
    readonly views: PageView[] = [];
    private running = false;
    private loops: Promise<void>[] = [];
    private readonly expected = new Map<number, string>();
    private readonly last = new Map<number, number>();
    private readonly shoppers: number;
    private readonly intervalMs: number;
    private readonly maxSeconds: number;
    private hold?: string;

    constructor(private readonly site: WordPressSite, private readonly options: ShopTrafficOptions = {}) {
        this.shoppers = options.shoppers ?? 3;
        this.intervalMs = options.intervalMs ?? 1000;
        this.maxSeconds = options.maxSeconds ?? 600;
    }

    async start(): Promise<void> {
        this.running = true;
        const stopAt = Date.now() + this.maxSeconds * 1000;
        for (let s = 0; s < this.shoppers; s++) {
            this.loops.push((async () => {
                await sleep((s * this.intervalMs) / this.shoppers); // spread evenly over the second
                while (this.running && Date.now() < stopAt) {
                    const n = this.site.nextOrder();
                    const view: PageView = { ...(await this.site.view(s, n, this.last.get(s))), expected: this.expected.get(s) };
                    this.views.push(view);
                    this.last.set(s, n);
                    if (view.rendered && view.wrote) this.expected.set(s, String(n));
                    await sleep(Math.max(0, view.startedAt + this.intervalMs - Date.now()));
                }
            })());
        }
        const until = Date.now() + 30000;
        while (Date.now() < until && !this.allOkSince(0)) await sleep(100);
        if (!this.allOkSince(0)) throw new Error(`the shop served no page before the drill: ${this.progress()}`);
        if (this.options.holdOnePageAcrossTheFault) {
            const hold = (this.hold = path.join(this.site.dir, `hold-${Date.now()}`));
            const heldShopper = this.shoppers; // a shopper of its own, outside the loops' carts
            this.loops.push((async () => {
                this.views.push({ ...(await this.site.view(heldShopper, this.site.nextOrder(), undefined, { REDIS_HA_DRILL_HOLD: hold })), expected: undefined });
            })());
            const holdUntil = Date.now() + 30000;
            while (Date.now() < holdUntil && !fs.existsSync(`${hold}.holding`) && this.views.every((v) => v.shopper !== heldShopper)) await sleep(50);
            if (!fs.existsSync(`${hold}.holding`)) throw new Error(`the held page did not reach its hold: ${this.progress()}`);
        }
    }

    faulted(): void {
        if (this.hold) fs.writeFileSync(`${this.hold}.go`, "");
    }

    private allOkSince(t: number): boolean {
        for (let s = 0; s < this.shoppers; s++) if (!this.views.some((v) => v.shopper === s && v.ok && v.startedAt > t)) return false;
        return true;
    }

    /** Every shopper has had a good page that started after `t`. */
    resumedSince(t: number): boolean { return this.allOkSince(t); }

    progress(): string {
        const bad = this.views.filter((v) => !v.ok);
        return `${this.views.length} page views, ${bad.length} failed${bad.length ? `; last: ${bad[bad.length - 1].problem}` : ""}`;
    }

    async stop(): Promise<void> {
        this.running = false;
        await Promise.all(this.loops);
    }

    /** Call after recovery: the audit reads the cache as the next page would. */
    figures(): ShopFigures {
        const views = this.views;
        const flushing = views.filter((v) => v.flushed);
        const lastFlushEnded = Math.max(0, ...flushing.map((v) => v.endedAt));
        const acked = views.filter((v) => v.ack === true && v.startedAt > lastFlushEnded).map((v) => [v.shopper, v.n] as [number, number]);
        const options = new Set<string>([...new Set(views.map((v) => v.shopper))].map((s) => `redis_ha_drill_cart_${s}`));
        for (const v of views) options.add(`redis_ha_drill_order_${v.shopper}_${v.n}`);
        const audit = this.site.audit([...options], acked);
        if (!audit.external || !audit.redis) throw new Error(`after the drill WordPress is not using Redis (external object cache ${audit.external}, connected ${audit.redis})`);
        const bad = views.filter((v) => !v.rendered);
        const staleReads = views.filter((v) => v.rendered && v.expected !== undefined && v.seen !== v.expected);
        return {
            setup: this.site.current,
            views: views.length,
            errorPages: bad.length,
            withoutRedis: views.filter((v) => v.rendered && !v.ok).length,
            slowestMs: Math.max(0, ...views.map((v) => v.endedAt - v.startedAt)),
            staleReads: staleReads.length,
            ackedMissing: audit.missing.length,
            staleEntries: audit.stale.length,
            flushes: flushing.length,
            problems: [...new Set(views.filter((v) => !v.ok).map((v) => v.problem ?? "?"))].slice(0, 3)
                .concat(staleReads.slice(0, 2).map((v) => `shopper ${v.shopper} read cart ${v.seen} after writing ${v.expected}`))
                .concat(audit.stale.slice(0, 2).map((e) => `${e.option}: the cache says ${e.cache}, the database ${e.database}`)),
        };
    }
}

function must(r: ReturnType<typeof spawnSync>, what: string): void {
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${String(r.stderr ?? "").slice(0, 1000)}`);
}

function readTail(file: string): string {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").slice(-10).join("\n") : "";
}
