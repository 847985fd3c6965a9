/**
 * Copy-paste client configuration for apps that use the Redis set: phpredis, Predis, the WordPress
 * Redis Object Cache plugin and ioredis. The snippets embed addresses and the master name but never a
 * password — each reads its user name and passwords from environment variables (clientEnvironment:
 * the app user of components/core/aclUsers.ts) — so they can be plain stack outputs.
 * Pure (no Pulumi), so tests can lint and type-check exactly what a user will paste.
 */

import { WORDPRESS_OBJECT_CACHE } from "./wordpressObjectCache";

export interface ClientConfigInput {
    /** Sentinel's name for the master, e.g. "redis-ha" (letters, digits, . _ -). */
    masterName: string;
    /** "IPv4:port" of every Sentinel, e.g. ["10.42.0.11:26379", ...]. */
    sentinels: readonly string[];
    /** Names of the environment variables the app reads its passwords from. */
    redisPasswordEnv?: string;
    sentinelPasswordEnv?: string;
    /** Name of the environment variable the app reads its Redis user name from (unset or empty: password-only AUTH). */
    redisUsernameEnv?: string;
    /** Whether the Sentinels require a password (the stack's sentinelAuth). Default true. */
    sentinelAuth?: boolean;
    /**
     * The stack's minReplicasToWrite: the WordPress drop-in waits (briefly) for a new master to have
     * this many replicas, since until then Redis refuses its writes (NOREPLICAS). Default 0.
     */
    minReplicasToWrite?: number;
    /**
     * The stack's Sentinel timings: with them the WordPress snippet sets how long a page waits for a
     * master (wordpressMasterWaitMs) to outlast a split vote. Default: the drop-in's own 10 s.
     */
    sentinelTimings?: SentinelTimings;
}

export interface SentinelTimings {
    downAfterMilliseconds: number;
    failoverTimeoutMilliseconds: number;
}

/**
 * How long after a master fails the Sentinels may still name no new one when their election splits
 * `splitVotes` times in a row (two Sentinels left after a host loss can each vote for itself):
 * down-after to notice, then, per split, twice failover-timeout, since a Sentinel tries again only
 * that long after the election it lost began (Redis's sentinelStartFailoverIfNeeded). The agreement
 * on the fault and the promotion itself come on top, a few seconds: each caller adds its margin.
 */
export function splitVoteFailoverMs(timings: SentinelTimings, splitVotes: number): number {
    return timings.downAfterMilliseconds + splitVotes * 2 * timings.failoverTimeoutMilliseconds;
}

/**
 * How long a WordPress page waits for a master: long enough for a failover whose first election
 * splits, and 10 s for the agreement on the fault, the promotion, and the Sentinels naming it.
 */
export function wordpressMasterWaitMs(timings: SentinelTimings): number {
    return splitVoteFailoverMs(timings, 1) + 10000;
}

export interface ClientSnippets {
    /** PHP: a failover-aware connect helper around phpredis's RedisSentinel. */
    phpredis: string;
    /** PHP: a Predis 2.x client in Sentinel replication mode. */
    predis: string;
    /**
     * PHP: a Predis 1.1 client. Predis 1.1 never authenticates to Sentinels, so this is a working
     * client only when sentinelAuth is false; otherwise it says so and what to do instead.
     */
    predis1: string;
    /** wp-config.php lines for the Redis Object Cache plugin. */
    wordpress: string;
    /**
     * wp-content/object-cache.php: the plugin's drop-in behind redis-ha's start-up wait, master
     * reads, short retries and flush after a failover. The same file for every stack.
     */
    wordpressObjectCache: string;
    /** TypeScript (also valid as an ES module): an ioredis client. */
    ioredis: string;
}

/**
 * The non-secret ioredis options we recommend, as plain data. The retry strategies are functions, so
 * they live in the snippet's code instead. Every name here is type-checked against the installed
 * ioredis by tests/unit/clientConfig.test.ts.
 */
export const IOREDIS_RECOMMENDED_OPTIONS = {
    role: "master",
    failoverDetector: true,
    connectTimeout: 1000,
    disconnectTimeout: 200,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 60,
} as const;

const IOREDIS_WHY: Record<keyof typeof IOREDIS_RECOMMENDED_OPTIONS, string> = {
    role: "the ready check compares INFO's role, so a master Sentinel just demoted is dropped, not used",
    failoverDetector: "subscribe to +switch-master: reconnect as soon as Sentinel promotes, not when a socket times out",
    connectTimeout: "ms; the default 10 s stalls every failover that lands on a dead host",
    disconnectTimeout: "ms; on +switch-master ioredis half-closes the old connection and, when the old master's host is gone, waits this long before dropping it (default 2 s, which added about 2 s to every host-loss failover)",
    enableOfflineQueue: "commands issued mid-failover wait for the new master instead of failing",
    maxRetriesPerRequest: "with the 50..250 ms back-off below, about 15 s of reconnecting before a queued command fails",
};

/**
 * Part of the ioredis snippet: restarts a client that ioredis ended by mistake. In ioredis 5.x/6.x,
 * when the failover detector hears +switch-master while the client is reconnecting and still asking a
 * Sentinel where the master is, it closes that attempt and the client ends for good ("Connection is
 * closed." on every command; seen in 4 of ~120 lab drills before this guard). Exported so the test
 * that reproduces the race can also prove the race is still there without it.
 */
export const IOREDIS_END_GUARD = `
// ioredis 5.x/6.x can give up for good ("Connection is closed." on every command) when Sentinel
// announces the new master while the client is still asking a Sentinel where the master is: the
// failover detector aborts that lookup and the client ends instead of retrying (docs/failover.md).
// Only that path emits this error just before "end" (an app's own quit() or disconnect() does not),
// so only then is the client started again. Note that with this listener ioredis no longer prints
// unhandled errors itself: add your own redis.on("error", ...) to log them.
let endedMidLookup = false;
redis.on("error", (err) => {
    endedMidLookup = err instanceof Error && err.message === "Connection is closed.";
});
redis.on("end", () => {
    if (!endedMidLookup) return;
    endedMidLookup = false;
    redis.connect().catch(() => undefined);
});
`;

interface Endpoint { host: string; port: number }
/** The environment variables the Redis user name and password come from. */
interface Credentials { user: string; password: string }

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const SENTINEL_ADDRESS = new RegExp(`^${OCTET}(\\.${OCTET}){3}:([1-9]\\d{0,4})$`);
const MASTER_NAME = /^[A-Za-z0-9._-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Everything embedded in the snippets is pasted into PHP and TypeScript source, so it is validated
// down to characters that need no quoting in either language.
function parseSentinel(address: string): Endpoint {
    const match = SENTINEL_ADDRESS.exec(address);
    const port = match ? Number(address.slice(address.lastIndexOf(":") + 1)) : 0;
    if (!match || port > 65535) {
        throw new Error(`sentinel ${JSON.stringify(address)} is not an IPv4:port address such as "10.42.0.11:26379"`);
    }
    return { host: address.slice(0, address.lastIndexOf(":")), port };
}

function checkedCount(what: string, value: number): number {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${what} ${JSON.stringify(value)} is not a count (an integer, 0 or more)`);
    return value;
}

function checked(what: string, value: string, pattern: RegExp, rule: string): string {
    if (!pattern.test(value)) throw new Error(`${what} ${JSON.stringify(value)} ${rule}`);
    return value;
}

export function renderClientSnippets(input: ClientConfigInput): ClientSnippets {
    const master = checked("master name", input.masterName, MASTER_NAME, "may hold only letters, digits, '.', '_' and '-'");
    const envRule = "is not an environment variable name (letters, digits and '_', not starting with a digit)";
    const redisEnv = checked("redisPasswordEnv", input.redisPasswordEnv ?? "REDIS_PASSWORD", ENV_NAME, envRule);
    const sentinelEnv = checked("sentinelPasswordEnv", input.sentinelPasswordEnv ?? "REDIS_SENTINEL_PASSWORD", ENV_NAME, envRule);
    const redisUserEnv = checked("redisUsernameEnv", input.redisUsernameEnv ?? "REDIS_USERNAME", ENV_NAME, envRule);
    const redis: Credentials = { user: redisUserEnv, password: redisEnv };
    if (input.sentinels.length === 0) throw new Error("at least one sentinel address is needed");
    const sentinels = input.sentinels.map(parseSentinel);
    return {
        phpredis: phpredisSnippet(master, sentinels, redis, sentinelEnv),
        predis: predisSnippet(master, sentinels, redis, sentinelEnv),
        predis1: input.sentinelAuth === false ? predis1Snippet(master, sentinels, redis) : PREDIS1_NEEDS_OPEN_SENTINELS,
        wordpress: wordpressSnippet(master, sentinels, redis, sentinelEnv, checkedCount("minReplicasToWrite", input.minReplicasToWrite ?? 0),
            input.sentinelTimings && checkedCount("the WordPress wait for a master", wordpressMasterWaitMs(input.sentinelTimings))),
        wordpressObjectCache: WORDPRESS_OBJECT_CACHE,
        ioredis: ioredisSnippet(master, sentinels, redis, sentinelEnv),
    };
}

/**
 * Predis and the WordPress plugin take Sentinels as URIs; each must carry the Sentinel password. A
 * password only: Predis 2 drops any user name given for a Sentinel (aclUsers.ts).
 */
function sentinelUris(sentinels: Endpoint[], sentinelEnv: string, indent: string): string {
    return sentinels
        .map((s) => `${indent}'tcp://${s.host}:${s.port}?password=' . rawurlencode((string) getenv('${sentinelEnv}')),`)
        .join("\n");
}

function phpredisSnippet(master: string, sentinels: Endpoint[], redis: Credentials, sentinelEnv: string): string {
    const list = sentinels.map((s) => `['${s.host}', ${s.port}]`).join(", ");
    return `// phpredis (PHP >= 7.1). RedisSentinel exists since phpredis 5.2.0 and takes its auth argument since
// 5.3.2; phpredis 6.x takes a single options array instead of positional arguments.
// phpredis has no Sentinel failover of its own (and no Redis::connectSentinel(), whatever some
// articles say): redis_ha_connect() below is the failover.

/**
 * A \\Redis connected and authenticated to the current master of "${master}".
 *
 * Asks the Sentinels in turn until a majority of them name the same address, tries the addresses
 * they named (most named first), and keeps at it for up to $budgetMs, so a request that arrives
 * during a failover waits for the new master (Sentinel needs its down-after-milliseconds plus an
 * election) instead of failing. A majority, not the first answer: a master cut off from the other
 * nodes still has its own Sentinel beside it, which keeps naming it, and it keeps saying ROLE master
 * and taking writes that the failover on the other side throws away. ROLE is checked too, because
 * a Sentinel can still name a master it just demoted.
 */
function redis_ha_connect(int $budgetMs = 8000): \\Redis
{
    $sentinels = [${list}];
    $majority = intdiv(count($sentinels), 2) + 1;
    $sentinelAuth = getenv('${sentinelEnv}') ?: null;
    // [user, password] for an ACL user such as clientEnvironment's (phpredis >= 5.3), the password alone otherwise.
    $redisAuth = getenv('${redis.password}') ?: null;
    if ($redisAuth !== null && getenv('${redis.user}')) {
        $redisAuth = [getenv('${redis.user}'), $redisAuth];
    }
    $connectTimeout = 0.5; // s: an unreachable node must cost little while another can answer
    $readTimeout = 2.0;    // s: raise it if you use blocking commands such as BLPOP
    $optionsArray = version_compare((string) phpversion('redis'), '6.0.0', '>=');
    $deadline = microtime(true) + $budgetMs / 1000;
    $why = 'no Sentinel answered';
    do {
        $votes = []; // "host:port" => how many Sentinels name it
        foreach ($sentinels as [$host, $port]) {
            try {
                if ($optionsArray) { // phpredis 6.x
                    $options = ['host' => $host, 'port' => $port, 'connectTimeout' => $connectTimeout, 'readTimeout' => $connectTimeout];
                    if ($sentinelAuth !== null) {
                        $options['auth'] = $sentinelAuth;
                    }
                    $sentinel = new \\RedisSentinel($options);
                } elseif ($sentinelAuth !== null) { // phpredis 5.3.2+: host, port, timeout, persistent, retryInterval, readTimeout, auth
                    $sentinel = new \\RedisSentinel($host, $port, $connectTimeout, null, 0, $connectTimeout, $sentinelAuth);
                } else { // a null auth makes phpredis 5.3 send one anyway, and a Sentinel without a password hangs up
                    $sentinel = new \\RedisSentinel($host, $port, $connectTimeout, null, 0, $connectTimeout);
                }
                $address = $sentinel->getMasterAddrByName('${master}');
                if (!is_array($address)) {
                    $why = "Sentinel $host:$port does not know ${master}";
                    continue;
                }
                $named = $address[0] . ':' . $address[1];
                $votes[$named] = ($votes[$named] ?? 0) + 1;
                if ($votes[$named] >= $majority) {
                    break;
                }
            } catch (\\RedisException $e) {
                $why = "Sentinel $host:$port: " . $e->getMessage();
            }
        }
        arsort($votes); // the majority's choice first; the others only if it is not a master (mid-failover)
        foreach (array_keys($votes) as $named) {
            $separator = strrpos($named, ':');
            $masterHost = substr($named, 0, $separator);
            $masterPort = (int) substr($named, $separator + 1);
            try {
                $redis = new \\Redis();
                $redis->connect($masterHost, $masterPort, $connectTimeout, null, 0, $readTimeout);
                if ($redisAuth !== null && !$redis->auth($redisAuth)) {
                    // Not transient: retrying would only make every request slow.
                    throw new \\RuntimeException("Redis at $named refused the password in ${redis.password}");
                }
                $role = $redis->role();
                if (is_array($role) && $role[0] === 'master') {
                    return $redis;
                }
                $why = "$named is not the master yet (" . ($redis->getLastError() ?? json_encode($role)) . ')';
                $redis->close();
            } catch (\\RedisException $e) {
                $why = "$named: " . $e->getMessage();
            }
        }
        usleep(100000); // 100 ms steps: the new master is noticed within a step of its promotion
    } while (microtime(true) < $deadline);
    throw new \\RedisException("no master for ${master} within {$budgetMs} ms; last problem: $why");
}

/**
 * Runs an idempotent command (GET, SET of a fixed value, DEL, EXPIRE...) and, if the connection drops
 * mid-command - Sentinel kills client connections when it demotes a master - runs it once more on the
 * new master. Don't route INCR, LPUSH and the like through this: their first attempt may already have
 * been applied, so let their RedisException reach the caller instead.
 *
 *     $redis = redis_ha_connect();
 *     $page = redis_ha_idempotent($redis, function (\\Redis $r) { return $r->get('page:home'); });
 */
function redis_ha_idempotent(\\Redis &$redis, callable $command)
{
    try {
        return $command($redis);
    } catch (\\RedisException $e) {
        $redis = redis_ha_connect();
        return $command($redis);
    }
}
`;
}

/** The Predis client and its failover tuning, the same in 1.1 and 2.x but for the replication class. */
function predisClient(sentinelList: string, master: string, redis: Credentials, replicationClass: string): string {
    return `$client = new \\Predis\\Client(
    [
${sentinelList}
    ],
    [
        'replication' => 'sentinel',
        'service' => '${master}',
        'parameters' => [
            'username' => getenv('${redis.user}') ?: null,
            'password' => getenv('${redis.password}') ?: null,
            'timeout' => 0.5,            // s to connect (default 5): a dead master must cost little per retry
            'read_write_timeout' => 2.0, // s; raise it if you use blocking commands such as BLPOP
        ],
    ]
);
$replication = $client->getConnection(); // a ${replicationClass}
// The default wait of 1000 ms between retries rounds every outage up to whole seconds; 100 retries
// 100 ms apart outlast a failover (down-after-milliseconds plus an election) of about 10 s.
// The command in flight is re-sent after a failover, so a non-idempotent one (INCR, LPUSH...) can run twice.
$replication->setRetryWait(100);
$replication->setRetryLimit(100);`;
}

function predisSnippet(master: string, sentinels: Endpoint[], redis: Credentials, sentinelEnv: string): string {
    return `// Predis >= 2.1.2 (disableLoadBalancing() arrived in 2.1.2).
// Each Sentinel URI carries the Sentinel password because Predis sends a URI's own password to that
// Sentinel, while 'parameters' holds the defaults for the Redis nodes. Older Predis differs: 1.1.0-1.1.4
// never authenticate to Sentinels, and up to 2.0.2 a Sentinel without its own password was sent the
// Redis one.
${predisClient(sentinelUris(sentinels, sentinelEnv, "        "), master, redis, "Predis\\Connection\\Replication\\SentinelReplication")}
// Predis sends read commands to replicas by default; those can lag behind a write just made.
$replication->getReplicationStrategy()->disableLoadBalancing();
`;
}

const PREDIS1_NEEDS_OPEN_SENTINELS = `// Predis 1.1 cannot talk to these Sentinels: it never sends a password to a Sentinel (a URI's
// ?password= is dropped), and these require one, so every lookup fails with NOAUTH.
// Either upgrade to Predis >= 2.1.2 and use the "predis" snippet, or deploy with
// "pulumi config set redis-ha:sentinelAuth false" (the Sentinels then rely on the firewall alone,
// see docs/failover.md) and this output becomes a Predis 1.1 client.
`;

function predis1Snippet(master: string, sentinels: Endpoint[], redis: Credentials): string {
    const uris = sentinels.map((s) => `        'tcp://${s.host}:${s.port}',`).join("\n");
    return `// Predis 1.1.x (Debian 12's php-nrk-predis is 1.1.10). Works because this stack runs its Sentinels
// without a password (redis-ha:sentinelAuth false): Predis 1.1 cannot authenticate to Sentinels.
// Upgrade to Predis >= 2.1.2 and turn sentinelAuth back on when you can.
${predisClient(uris, master, redis, "Predis\\Connection\\Aggregate\\SentinelReplication")}
// Predis 1.1 sends read commands to replicas and cannot be told otherwise: a read right after a
// write may not see it yet.
`;
}

function wordpressSnippet(master: string, sentinels: Endpoint[], redis: Credentials, sentinelEnv: string, minReplicas: number, masterWaitMs?: number): string {
    const stackWait = masterWaitMs === undefined ? "" : `define('WP_REDIS_HA_WAIT_MS', ${masterWaitMs}); // a page waits at most this long for a master: the stack's downAfterMilliseconds
// + 2 x failoverTimeoutMilliseconds + 10 s, so a failover whose first Sentinel election splits is waited out, not shown as an error page
`;
    const defaultWait = masterWaitMs === undefined ? "// define('WP_REDIS_HA_WAIT_MS', 10000);            // a page waits at most this long for a master\n" : "";
    return `// wp-config.php, above "That's all, stop editing!". Redis Object Cache plugin (rhubarbgroup/redis-cache)
// 2.x, whose Sentinel support goes through the Predis it bundles - hence WP_REDIS_CLIENT.
// Save the stack output clients.wordpressObjectCache as wp-content/object-cache.php, in place of the
// plugin's own drop-in. With the plugin's alone, a master failure shows every page started in the
// seconds before the new master "Error establishing a Redis connection", and pages read from
// replicas, so a shopper can read a cart back without their last change (docs/failover.md).
// The plugin gives WP_REDIS_PASSWORD to the Redis nodes only, never to the Sentinels, so each Sentinel
// URI carries the Sentinel password itself. WP_REDIS_PASSWORD is [user, password] for an ACL user.
// Under PHP-FPM, getenv() sees these variables only if the pool passes them (env[...] or clear_env = no).
define('WP_REDIS_CLIENT', 'predis');
define('WP_REDIS_SENTINEL', '${master}');
define('WP_REDIS_SERVERS', [
${sentinelUris(sentinels, sentinelEnv, "    ")}
]);
define('WP_REDIS_PASSWORD', getenv('${redis.user}') ? [getenv('${redis.user}'), (string) getenv('${redis.password}')] : (string) getenv('${redis.password}')); // '' (unset) means no AUTH to the plugin
define('WP_REDIS_HA_MIN_REPLICAS', ${minReplicas}); // the stack's minReplicasToWrite: Redis refuses writes to a master with fewer
${stackWait}// redis-ha's drop-in, with its defaults:
${defaultWait}// define('WP_REDIS_HA_REPLICA_WAIT_MS', 3000);     // and at most this long of it for a new master's replicas
// define('WP_REDIS_HA_REPLICA_READS', false);      // true: reads from replicas, which may not have a page's last write yet
// define('WP_REDIS_HA_FLUSH_AFTER_FAILOVER', true); // the first page under a new master flushes the object cache
// Leave WP_REDIS_GRACEFUL off: with it the plugin acknowledges writes that never reach Redis, and
// an invalidation lost that way leaves a stale entry behind (the plugin's README warns of it too).
`;
}

function ioredisSnippet(master: string, sentinels: Endpoint[], redis: Credentials, sentinelEnv: string): string {
    const recommended = Object.entries(IOREDIS_RECOMMENDED_OPTIONS)
        .map(([key, value]) => `    ${key}: ${JSON.stringify(value)}, // ${IOREDIS_WHY[key as keyof typeof IOREDIS_WHY]}`)
        .join("\n");
    return `// ioredis 5.x/6.x (option names checked against the ioredis 6.0.0 type definitions); valid as
// TypeScript or as an ES module.
import Redis from "ioredis";

export const redis = new Redis({
    sentinels: [
${sentinels.map((s) => `        { host: "${s.host}", port: ${s.port} },`).join("\n")}
    ],
    name: "${master}",
    username: process.env.${redis.user} || undefined,
    password: process.env.${redis.password},
    sentinelPassword: process.env.${sentinelEnv},
${recommended}
    // Reconnect quickly: the default backs off to 5 s, which outlasts the failover itself, and even a
    // 1 s cap added about 0.6 s to every measured failover (docs/failover.md).
    retryStrategy: (times) => Math.min(times * 50, 250),
    sentinelRetryStrategy: (times) => Math.min(times * 100, 1000),
    // A write that reaches a demoted master is refused, not applied: reconnect and re-send it.
    reconnectOnError: (err) => (err.message.startsWith("READONLY") ? 2 : false),
});
${IOREDIS_END_GUARD}`;
}
