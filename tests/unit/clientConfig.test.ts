import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { IOREDIS_RECOMMENDED_OPTIONS, renderClientSnippets } from "../../components/core/clientConfig";

const REPO = path.resolve(__dirname, "../..");
const SENTINELS = ["10.42.0.11:26379", "10.42.0.12:26379", "10.42.0.13:26380"];
const snippets = renderClientSnippets({ masterName: "redis-ha", sentinels: SENTINELS });
const openSentinelSnippets = renderClientSnippets({ masterName: "redis-ha", sentinels: SENTINELS, sentinelAuth: false });
/** Snippets that connect to the Sentinels; predis1 is only a client when the Sentinels have no password. */
const CONNECTING = ["phpredis", "predis", "wordpress", "ioredis"] as const;
const PHP_SNIPPETS = ["phpredis", "predis", "wordpress"] as const;
// Passwords with every character a URI or a PHP string could trip over.
const REDIS_SECRET = "redis-secret";
const SENTINEL_SECRET = "s3nt p@ss+/&=%?#é'\"";

const HAVE_PHP = spawnSync("php", ["-v"]).status === 0;
const phpTest = HAVE_PHP ? test : test.skip;
if (!HAVE_PHP) {
    console.warn(
        "\n************************************************************************\n" +
        "* php is NOT installed: the PHP snippet checks (php -l, behaviour) are  *\n" +
        "* SKIPPED. Install it: apt-get install -y php-cli  (CI must do so).     *\n" +
        "************************************************************************\n",
    );
}

const scratch: string[] = [];
function scratchDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    scratch.push(dir);
    return dir;
}
afterAll(() => {
    for (const dir of scratch) {
        const link = path.join(dir, "node_modules");
        if (fs.existsSync(link)) fs.unlinkSync(link); // the symlink only, never the repo's node_modules
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

/** Runs PHP files (name -> source; "main.php" is executed) and returns what main.php printed as JSON. */
function runPhp(files: Record<string, string>, env: Record<string, string | undefined> = {}): any {
    const dir = scratchDir("clientConfig-php-");
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const fullEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete fullEnv[key];
    // -n: no php.ini, so no installed phpredis extension clashes with the fakes below.
    const run = spawnSync("php", ["-n", path.join(dir, "main.php")], { cwd: dir, env: fullEnv, encoding: "utf8", timeout: 20000 });
    const lines = run.stdout.trim().split("\n");
    try {
        return JSON.parse(lines[lines.length - 1]);
    } catch {
        throw new Error(`php printed no JSON (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
    }
}

function phpLint(source: string): { ok: boolean; output: string } {
    const dir = scratchDir("clientConfig-lint-");
    const file = path.join(dir, "snippet.php");
    fs.writeFileSync(file, source);
    const run = spawnSync("php", ["-l", file], { encoding: "utf8" });
    return { ok: run.status === 0, output: run.stdout + run.stderr };
}

/** Type-checks TypeScript files against the repo's real ioredis and @types/node; returns errors per file. */
function typeCheck(files: Record<string, string>): Record<string, string[]> {
    const dir = scratchDir("clientConfig-ts-");
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
    const names = Object.keys(files);
    for (const name of names) fs.writeFileSync(path.join(dir, name), files[name]);
    const program = ts.createProgram(names.map((n) => path.join(dir, n)), {
        strict: true,
        noEmit: true,
        esModuleInterop: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        types: ["node"],
        typeRoots: [path.join(REPO, "node_modules", "@types")],
    });
    const errors: Record<string, string[]> = {};
    for (const name of names) {
        const file = program.getSourceFile(path.join(dir, name));
        errors[name] = ts.getPreEmitDiagnostics(program, file)
            .map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    }
    return errors;
}

describe("what every snippet says", () => {
    test.each([...CONNECTING.map((c) => [c, snippets[c]]), ["predis1 (sentinelAuth false)", openSentinelSnippets.predis1]])("%s names every Sentinel and the master", (_client, text) => {
        for (const address of SENTINELS) {
            const [host, port] = address.split(":");
            // "host:port", "'host', port" and `host: "host", port: port` all count.
            expect(text).toMatch(new RegExp(`${host.replace(/\./g, "\\.")}\\D{1,12}${port}\\b`));
        }
        expect(text).toContain("redis-ha");
    });

    test("passwords are read from the default environment variables", () => {
        for (const client of PHP_SNIPPETS) {
            expect(snippets[client]).toContain("getenv('REDIS_PASSWORD')");
            expect(snippets[client]).toContain("getenv('REDIS_SENTINEL_PASSWORD')");
        }
        expect(snippets.ioredis).toContain("password: process.env.REDIS_PASSWORD,");
        expect(snippets.ioredis).toContain("sentinelPassword: process.env.REDIS_SENTINEL_PASSWORD,");
    });

    test("custom environment variable names replace the defaults everywhere", () => {
        const custom = renderClientSnippets({
            masterName: "redis-ha", sentinels: SENTINELS, redisPasswordEnv: "APP_REDIS_PW", sentinelPasswordEnv: "APP_SENTINEL_PW",
            redisUsernameEnv: "APP_REDIS_USER",
        });
        for (const text of CONNECTING.map((c) => custom[c])) {
            expect(text).not.toMatch(/getenv\('REDIS_(SENTINEL_)?(PASSWORD|USERNAME)'\)|process\.env\.REDIS_/);
            for (const name of ["APP_REDIS_PW", "APP_SENTINEL_PW", "APP_REDIS_USER"]) expect(text).toContain(name);
        }
        expect(custom.phpredis).toContain("getenv('APP_SENTINEL_PW')");
        expect(custom.ioredis).toContain("process.env.APP_REDIS_PW");
    });

    test("the ioredis snippet carries every recommended option", () => {
        for (const [key, value] of Object.entries(IOREDIS_RECOMMENDED_OPTIONS)) {
            expect(snippets.ioredis).toContain(`${key}: ${JSON.stringify(value)},`);
        }
        expect(snippets.ioredis).toMatch(/\bretryStrategy: /);
        expect(snippets.ioredis).toMatch(/\bsentinelRetryStrategy: /);
    });

    test("phpredis never calls the Redis::connectSentinel() that articles invent", () => {
        const code = snippets.phpredis.replace(/^\s*(\/\/|\*).*$/gm, ""); // comments may warn about it
        expect(code).not.toMatch(/connectSentinel/);
    });
});

describe("Predis 1.1 and Sentinel auth", () => {
    test("with Sentinel auth on, the predis1 output is no client but says why and what to do", () => {
        expect(snippets.predis1).not.toMatch(/new \\Predis/);
        expect(snippets.predis1).toContain("NOAUTH");
        expect(snippets.predis1).toContain("redis-ha:sentinelAuth false");
        expect(snippets.predis1).toContain(">= 2.1.2");
    });

    test("with Sentinel auth off, predis1 sends no Sentinel password and keeps the Redis one", () => {
        expect(openSentinelSnippets.predis1).not.toContain("REDIS_SENTINEL_PASSWORD");
        expect(openSentinelSnippets.predis1).not.toContain("?password=");
        expect(openSentinelSnippets.predis1).toContain("getenv('REDIS_PASSWORD')");
        expect(openSentinelSnippets.predis1).toContain("setRetryWait(100)");
    });
});

describe("bad input is refused, naming the value", () => {
    test.each([
        ["a sentinel without a port", { sentinels: ["10.0.0.1"] }, /"10\.0\.0\.1"/],
        ["a sentinel host name", { sentinels: ["sentinel-1:26379"] }, /"sentinel-1:26379"/],
        ["an octet above 255", { sentinels: ["10.0.0.256:26379"] }, /"10\.0\.0\.256:26379"/],
        ["port 0", { sentinels: ["10.0.0.1:0"] }, /"10\.0\.0\.1:0"/],
        ["port 65536", { sentinels: ["10.0.0.1:65536"] }, /"10\.0\.0\.1:65536"/],
        ["a master name with a space", { masterName: "redis ha" }, /"redis ha"/],
        ["a master name with a quote", { masterName: "redis'ha" }, /"redis'ha"/],
        ["an env name that would break out of the string", { redisPasswordEnv: "X'); evil('" }, /X'\); evil\('/],
        ["no sentinels at all", { sentinels: [] }, /at least one sentinel/],
    ])("%s", (_what, override, message) => {
        expect(() => renderClientSnippets({ masterName: "redis-ha", sentinels: SENTINELS, ...override })).toThrow(message);
    });
});

describe("PHP snippets", () => {
    phpTest.each(PHP_SNIPPETS)("%s passes php -l", (client) => {
        const lint = phpLint(`<?php\n${snippets[client]}`);
        expect(lint.output).toContain("No syntax errors detected");
        expect(lint.ok).toBe(true);
    });

    phpTest("the WordPress object-cache drop-in passes php -l as the file it is (its own <?php, PHP 7.2 syntax)", () => {
        expect(snippets.wordpressObjectCache.startsWith("<?php\n")).toBe(true);
        const lint = phpLint(snippets.wordpressObjectCache);
        expect(lint.output).toContain("No syntax errors detected");
        // No stack data in it: one file serves every stack.
        expect(renderClientSnippets({ masterName: "other", sentinels: ["192.0.2.1:26379"] }).wordpressObjectCache).toBe(snippets.wordpressObjectCache);
    });

    test("the WordPress constants carry the stack's minReplicasToWrite, and refuse a value that is not a count", () => {
        expect(snippets.wordpress).toContain("define('WP_REDIS_HA_MIN_REPLICAS', 0);");
        expect(renderClientSnippets({ masterName: "redis-ha", sentinels: SENTINELS, minReplicasToWrite: 2 }).wordpress).toContain("define('WP_REDIS_HA_MIN_REPLICAS', 2);");
        expect(() => renderClientSnippets({ masterName: "redis-ha", sentinels: SENTINELS, minReplicasToWrite: 1.5 })).toThrow("minReplicasToWrite 1.5 is not a count");
    });

    phpTest("with the stack's Sentinel timings, a page waits out a split Sentinel vote: down-after + 2 x failover-timeout + 10 s, and still passes php -l", () => {
        const timed = renderClientSnippets({ masterName: "redis-ha", sentinels: SENTINELS, sentinelTimings: { downAfterMilliseconds: 1500, failoverTimeoutMilliseconds: 10000 } }).wordpress;
        expect(timed).toContain("\ndefine('WP_REDIS_HA_WAIT_MS', 31500);");
        expect(timed).not.toContain("// define('WP_REDIS_HA_WAIT_MS'");
        expect(snippets.wordpress).toContain("// define('WP_REDIS_HA_WAIT_MS', 10000);");
        expect(phpLint(`<?php\n${timed}`).ok).toBe(true);
    });

    phpTest("predis1 (sentinelAuth false) passes php -l", () => {
        expect(phpLint(`<?php\n${openSentinelSnippets.predis1}`).ok).toBe(true);
    });

    phpTest("php -l really rejects broken PHP (so the check above means something)", () => {
        expect(phpLint(`<?php\n${snippets.predis.replace("setRetryWait(100);", "setRetryWait(100)")}`).ok).toBe(false);
    });
});

/**
 * phpredis stand-ins: the extension is not installed here, and the helper's whole point is what it does
 * when Sentinels are down or name a demoted master, which only fakes can stage on demand.
 */
const PHPREDIS_FAKES = String.raw`<?php
class RedisException extends Exception {}
final class World {
    public static $sentinelCalls = [];  // constructor arguments of every RedisSentinel
    public static $asked = [];          // [sentinel host, master name] of every getMasterAddrByName
    public static $connects = [];       // arguments of every Redis::connect
    public static $auths = [];
    public static $answers = [];        // sentinel host => answers in turn ('down' throws); the last repeats
    public static $roles = [];          // redis host => ROLE reply
    public static $password = 'redis-secret';
    public static $failCommands = 0;    // how many commands drop their connection
    public static $sleeps = [];         // every usleep of the helper, in microseconds
    public static function dump() { return (new ReflectionClass(self::class))->getStaticProperties(); }
}
class RedisSentinel {
    private $host;
    public function __construct(...$args) {
        World::$sentinelCalls[] = $args;
        $this->host = is_array($args[0]) ? $args[0]['host'] : $args[0];
    }
    public function getMasterAddrByName($name) {
        World::$asked[] = [$this->host, $name];
        $queue = &World::$answers[$this->host];
        $answer = $queue === null ? 'down' : (count($queue) > 1 ? array_shift($queue) : $queue[0]);
        if ($answer === 'down') throw new RedisException("Connection refused ($this->host)");
        return $answer;
    }
}
class Redis {
    public $host;
    public function connect($host, $port = 6379, $timeout = 0, $persistentId = null, $retryInterval = 0, $readTimeout = 0) {
        World::$connects[] = func_get_args();
        $this->host = $host;
        return true;
    }
    public function auth($credentials) { World::$auths[] = $credentials; return (is_array($credentials) ? $credentials[1] : $credentials) === World::$password; }
    public function role() { return World::$roles[$this->host]; }
    public function getLastError() { return null; }
    public function close() { return true; }
    public function get($key) {
        if (World::$failCommands-- > 0) throw new RedisException('socket error on read socket');
        return "$key@$this->host";
    }
}
`;

/** Runs the phpredis snippet pasted into a namespaced file, as apps often do, against the fakes. */
function phpredisScenario(setup: string, act: string, env: Record<string, string | undefined>): any {
    const snippet = `<?php
namespace App;
// Lets a test pick which RedisSentinel constructor the helper uses.
function phpversion($extension = null) { return $extension === 'redis' ? getenv('FAKE_PHPREDIS_VERSION') : \\phpversion($extension); }
// Counts the helper's pauses, so tests assert how often it waited, not how long a busy machine took.
function usleep($microseconds) { \\World::$sleeps[] = $microseconds; \\usleep($microseconds); }
${snippets.phpredis}`;
    const main = `<?php
use function App\\redis_ha_connect;
use function App\\redis_ha_idempotent;
require __DIR__ . '/fakes.php';
require __DIR__ . '/snippet.php';
${setup}
$start = microtime(true);
try {
    $result = (function () { ${act} })();
    $outcome = ['ok' => true, 'result' => $result];
} catch (\\Throwable $e) {
    $outcome = ['ok' => false, 'error' => get_class($e), 'message' => $e->getMessage()];
}
$outcome['ms'] = (microtime(true) - $start) * 1000;
echo json_encode($outcome + World::dump()), "\\n";
`;
    return runPhp({ "fakes.php": PHPREDIS_FAKES, "snippet.php": snippet, "main.php": main }, env);
}

const PHP_ENV = { REDIS_PASSWORD: REDIS_SECRET, REDIS_SENTINEL_PASSWORD: SENTINEL_SECRET };
const DEMOTED_THEN_PROMOTED = `
World::$answers = [
    '10.42.0.11' => ['down'],
    '10.42.0.12' => [['10.0.0.5', '6379'], ['10.0.0.5', '6379'], ['10.0.0.6', '6379']],
];
World::$roles = ['10.0.0.5' => ['slave', '10.0.0.6', 6379, 'connected', 0], '10.0.0.6' => ['master', 0, []]];
`;

describe("the phpredis helper during a failover", () => {
    phpTest("phpredis 5.3: skips a dead Sentinel, refuses a demoted master and waits for the promoted one", () => {
        const out = phpredisScenario(DEMOTED_THEN_PROMOTED, "return redis_ha_connect(5000)->host;",
            { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(out).toMatchObject({ ok: true, result: "10.0.0.6" });
        // Positional form, Sentinel password as the 7th (auth) argument.
        expect(out.sentinelCalls[0]).toEqual(["10.42.0.11", 26379, 0.5, null, 0, 0.5, SENTINEL_SECRET]);
        expect(out.asked.every(([, name]: string[]) => name === "redis-ha")).toBe(true);
        expect(out.connects.map((c: unknown[]) => c[0])).toEqual(["10.0.0.5", "10.0.0.5", "10.0.0.6"]);
        expect(out.connects[2][1]).toBe(6379);
        expect(out.auths.every((a: string) => a === REDIS_SECRET)).toBe(true);
        expect(out.sleeps).toEqual([100000, 100000]); // a 100 ms pause after each of the two rounds that met the demoted master
    });

    phpTest("phpredis 5.3 without a Sentinel password passes no auth argument at all (a null one makes it send AUTH, and the Sentinel hangs up)", () => {
        const setup = "World::$answers = ['10.42.0.11' => [['10.0.0.6', '6379']]]; World::$roles = ['10.0.0.6' => ['master', 0, []]];";
        const out = phpredisScenario(setup, "return redis_ha_connect()->host;", { ...PHP_ENV, REDIS_SENTINEL_PASSWORD: undefined, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(out).toMatchObject({ ok: true, result: "10.0.0.6" });
        expect(out.sentinelCalls[0]).toEqual(["10.42.0.11", 26379, 0.5, null, 0, 0.5]);
    });

    phpTest("with clientEnvironment's REDIS_USERNAME, phpredis logs in to the master as the app user (5.3 and 6); the Sentinels get the password alone", () => {
        const setup = "World::$answers = ['10.42.0.11' => [['10.0.0.6', '6379']]]; World::$roles = ['10.0.0.6' => ['master', 0, []]];";
        const users = { ...PHP_ENV, REDIS_USERNAME: "app" };
        const old = phpredisScenario(setup, "return redis_ha_connect()->host;", { ...users, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(old).toMatchObject({ ok: true, result: "10.0.0.6" });
        expect(old.sentinelCalls[0][6]).toBe(SENTINEL_SECRET);
        expect(old.auths).toEqual([["app", REDIS_SECRET]]);
        const current = phpredisScenario(setup, "return redis_ha_connect()->host;", { ...users, FAKE_PHPREDIS_VERSION: "6.0.2" });
        expect(current.sentinelCalls[0][0].auth).toBe(SENTINEL_SECRET);
        expect(current.auths).toEqual([["app", REDIS_SECRET]]);
    });

    phpTest("phpredis 6: uses the options array, with auth only when a Sentinel password is set", () => {
        const setup = "World::$answers = ['10.42.0.11' => [['10.0.0.6', '6379']]]; World::$roles = ['10.0.0.6' => ['master', 0, []]];";
        const withAuth = phpredisScenario(setup, "return redis_ha_connect()->host;", { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "6.0.2" });
        expect(withAuth).toMatchObject({ ok: true, result: "10.0.0.6" });
        expect(withAuth.sentinelCalls[0]).toEqual([{
            host: "10.42.0.11", port: 26379, connectTimeout: 0.5, readTimeout: 0.5, auth: SENTINEL_SECRET,
        }]);
        const noAuth = phpredisScenario(setup, "return redis_ha_connect()->host;",
            { ...PHP_ENV, REDIS_SENTINEL_PASSWORD: undefined, FAKE_PHPREDIS_VERSION: "6.1.0" });
        expect(noAuth.ok).toBe(true);
        expect(noAuth.sentinelCalls[0][0]).not.toHaveProperty("auth");
    });

    phpTest("a master cut off from the others, with its own Sentinel still naming it: the majority's master is used, the stale one never touched", () => {
        // The partition drill: the old master still says ROLE master and would take writes that are then thrown away.
        const setup = `World::$answers = [
            '10.42.0.11' => [['10.0.0.5', '6379']],
            '10.42.0.12' => [['10.0.0.6', '6379']],
            '10.42.0.13' => [['10.0.0.6', '6379']],
        ];
        World::$roles = ['10.0.0.5' => ['master', 0, []], '10.0.0.6' => ['master', 0, []]];`;
        const out = phpredisScenario(setup, "return redis_ha_connect(5000)->host;", { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(out).toMatchObject({ ok: true, result: "10.0.0.6" });
        expect(out.connects.map((c: unknown[]) => c[0])).toEqual(["10.0.0.6"]);
    });

    phpTest("when the Sentinels agree it asks only a majority of them", () => {
        const setup = `World::$answers = ['10.42.0.11' => [['10.0.0.6', '6379']], '10.42.0.12' => [['10.0.0.6', '6379']], '10.42.0.13' => [['10.0.0.6', '6379']]];
        World::$roles = ['10.0.0.6' => ['master', 0, []]];`;
        const out = phpredisScenario(setup, "return redis_ha_connect()->host;", { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(out).toMatchObject({ ok: true, result: "10.0.0.6" });
        expect(out.asked.map(([host]: string[]) => host)).toEqual(["10.42.0.11", "10.42.0.12"]);
    });

    phpTest("right after a switch, when only the leader names the new master, it is tried in the same round once the majority's is not a master", () => {
        const setup = `World::$answers = ['10.42.0.11' => [['10.0.0.6', '6379']], '10.42.0.12' => [['10.0.0.5', '6379']], '10.42.0.13' => [['10.0.0.5', '6379']]];
        World::$roles = ['10.0.0.5' => ['slave', '10.0.0.6', 6379, 'connected', 0], '10.0.0.6' => ['master', 0, []]];`;
        const out = phpredisScenario(setup, "return redis_ha_connect(5000)->host;", { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(out).toMatchObject({ ok: true, result: "10.0.0.6" });
        expect(out.connects.map((c: unknown[]) => c[0])).toEqual(["10.0.0.5", "10.0.0.6"]);
        expect(out.sleeps).toEqual([]); // no pause: the same round
    });

    phpTest("gives up after its budget with a RedisException that says why", () => {
        const out = phpredisScenario("", "return redis_ha_connect(300);", { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(out).toMatchObject({ ok: false, error: "RedisException" });
        expect(out.message).toMatch(/no master for redis-ha within 300 ms.*Connection refused/);
        expect(out.ms).toBeGreaterThanOrEqual(300);
        // A round ends in a 100 ms pause and none starts past the budget: at most three in 300 ms.
        expect(out.sleeps.length).toBeGreaterThanOrEqual(1);
        expect(out.sleeps.length).toBeLessThanOrEqual(3);
    });

    phpTest("a wrong Redis password fails at once instead of burning the budget", () => {
        const out = phpredisScenario(`${DEMOTED_THEN_PROMOTED} World::$password = 'rotated';`, "return redis_ha_connect(5000);",
            { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "5.3.7" });
        expect(out).toMatchObject({ ok: false, error: "RuntimeException" });
        expect(out.message).toContain("REDIS_PASSWORD");
        expect(out.sleeps).toEqual([]); // no retry round at all
        expect(out.connects).toHaveLength(1);
    });

    phpTest("redis_ha_idempotent re-runs a command once on a new connection when the old one drops", () => {
        const setup = "World::$answers = ['10.42.0.11' => [['10.0.0.6', '6379']]]; World::$roles = ['10.0.0.6' => ['master', 0, []]];";
        const act = "$r = redis_ha_connect(); $first = $r; World::$failCommands = 1;" +
            " $v = redis_ha_idempotent($r, function (\\Redis $r) { return $r->get('page'); });" +
            " return [$v, $r !== $first];";
        const out = phpredisScenario(setup, act, { ...PHP_ENV, FAKE_PHPREDIS_VERSION: "6.0.2" });
        expect(out).toMatchObject({ ok: true, result: ["page@10.0.0.6", true] });
        expect(out.connects).toHaveLength(2);
    });
});

describe("the Predis and WordPress snippets hand each Sentinel its password", () => {
    // What Predis\Connection\Parameters::parse() does with a URI: parse_url, then parse_str on the query.
    const PARSE_URIS = String.raw`array_map(function ($uri) {
        $p = parse_url($uri);
        parse_str($p['query'] ?? '', $q);
        return ['scheme' => $p['scheme'], 'host' => $p['host'], 'port' => $p['port'], 'password' => $q['password'] ?? null];
    }, $uris)`;

    phpTest("Predis: Sentinel URIs, Redis password, retry settings", () => {
        const fakes = String.raw`<?php
namespace Predis {
    class Client {
        public static $made = [];
        private $connection;
        public function __construct($parameters = null, $options = null) {
            self::$made[] = [$parameters, $options];
            $this->connection = new \Recorder('replication');
        }
        public function getConnection() { return $this->connection; }
    }
}
namespace {
    class Recorder {
        public static $calls = [];
        private $name;
        public function __construct($name) { $this->name = $name; }
        public function __call($method, $args) {
            self::$calls[] = [$this->name, $method, $args];
            return $method === 'getReplicationStrategy' ? new Recorder('strategy') : $this;
        }
    }
}
`;
        const main = `<?php
require __DIR__ . '/fakes.php';
require __DIR__ . '/snippet.php';
[$uris, $options] = Predis\\Client::$made[0];
echo json_encode(['sentinels' => ${PARSE_URIS}, 'options' => $options, 'calls' => Recorder::$calls]), "\\n";
`;
        const out = runPhp({ "fakes.php": fakes, "snippet.php": `<?php\nnamespace App;\n${snippets.predis}`, "main.php": main }, PHP_ENV);
        expect(out.sentinels).toEqual(SENTINELS.map((address) => {
            const [host, port] = address.split(":");
            return { scheme: "tcp", host, port: Number(port), password: SENTINEL_SECRET };
        }));
        expect(out.options).toMatchObject({ replication: "sentinel", service: "redis-ha", parameters: { password: REDIS_SECRET } });
        const calls = Object.fromEntries(out.calls.map(([on, method, args]: [string, string, unknown[]]) => [`${on}.${method}`, args]));
        expect(calls["replication.setRetryWait"][0]).toBeLessThanOrEqual(100);
        // The retries must outlast a failover of about 10 s.
        expect(calls["replication.setRetryWait"][0] * calls["replication.setRetryLimit"][0]).toBeGreaterThanOrEqual(10000);
        expect(calls).toHaveProperty(["strategy.disableLoadBalancing"]);
    });

    phpTest("WordPress: the plugin's constants, with the Sentinel password inside every server URI", () => {
        const main = `<?php
require __DIR__ . '/snippet.php';
$uris = WP_REDIS_SERVERS;
echo json_encode(['client' => WP_REDIS_CLIENT, 'service' => WP_REDIS_SENTINEL, 'password' => WP_REDIS_PASSWORD, 'sentinels' => ${PARSE_URIS}]), "\\n";
`;
        const files = { "snippet.php": `<?php\n${snippets.wordpress}`, "main.php": main };
        const out = runPhp(files, PHP_ENV);
        expect(out).toMatchObject({ client: "predis", service: "redis-ha", password: REDIS_SECRET });
        expect(out.sentinels.map((s: { password: string }) => s.password)).toEqual(SENTINELS.map(() => SENTINEL_SECRET));
        // Unset means "no AUTH" to the plugin, which only skips AUTH for an empty string.
        expect(runPhp(files, { ...PHP_ENV, REDIS_PASSWORD: undefined }).password).toBe("");
    });
});

describe("the ioredis snippet against ioredis's own type definitions", () => {
    test("compiles under --strict, and a misspelled or mistyped option does not", () => {
        const good = snippets.ioredis;
        const misspelled = good.replace("failoverDetector:", "failoverDetecter:");
        const mistyped = good.replace('role: "master"', 'role: "primary"');
        expect(misspelled).not.toBe(good);
        expect(mistyped).not.toBe(good);
        const errors = typeCheck({ "good.ts": good, "misspelled.ts": misspelled, "mistyped.ts": mistyped });
        expect(errors["good.ts"]).toEqual([]);
        expect(errors["misspelled.ts"].join("\n")).toMatch(/failoverDetecter/);
        expect(errors["mistyped.ts"].join("\n")).toMatch(/"primary"/);
    });
});
