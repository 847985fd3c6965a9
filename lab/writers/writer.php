<?php
// The PHP writers of the failover drills (phpredis, Predis 2, Predis 1.1), run inside the lab's app
// namespace:  ip netns exec <app> php writer.php '<json config>'
// The client comes from the stack's own snippet (the `clients.phpredis|predis|predis1` output), included
// from the file named in the config; it reads its passwords from the environment like an app.
// Same protocol as ioredis.mjs: "ack <n> <ms>", "wack <n> <ms> <replicas>" (WAIT 1 then confirmed that
// many replicas have it, at least one), "err <ms> <message>"; stops on SIGTERM or after maxSeconds,
// then prints "done".
declare(ticks=1);

$config = json_decode($argv[1], true, 16, JSON_THROW_ON_ERROR);
if (isset($config['autoload'])) {
    require $config['autoload'];
}
require $config['snippetFile']; // defines redis_ha_connect() (phpredis) or $client (Predis)

$stopping = false;
pcntl_async_signals(true);
pcntl_signal(SIGTERM, function () use (&$stopping) { $stopping = true; });
$now = fn () => (int) floor(microtime(true) * 1000);
$say = function (string $line) { fwrite(STDOUT, $line . "\n"); fflush(STDOUT); };
$oneLine = fn (\Throwable $e) => strtok($e->getMessage(), "\n") ?: get_class($e);

$phpredis = $config['client'] === 'phpredis';
$redis = null;
$deadline = microtime(true) + $config['maxSeconds'];
$n = 0;
while (!$stopping && microtime(true) < $deadline) {
    $n++;
    try {
        if ($phpredis) {
            // The snippet's advice: a connection that failed is thrown away and the helper finds the master again.
            $redis ??= redis_ha_connect();
            // phpredis reports most error replies (NOREPLICAS, READONLY) as false, not as an exception.
            if ($redis->rPush($config['key'], (string) $n) === false) {
                throw new \RedisException($redis->getLastError() ?? 'RPUSH returned false');
            }
            $say("ack $n " . $now());
            $wait = fn (int $replicas, int $ms) => $redis->rawCommand('WAIT', $replicas, $ms);
        } else {
            $client->rpush($config['key'], [(string) $n]);
            $say("ack $n " . $now());
            $wait = fn (int $replicas, int $ms) => $client->executeRaw(['WAIT', (string) $replicas, (string) $ms]);
        }
        $replicas = $wait(1, $config['waitMs']);
        // WAIT 1 returns as soon as one replica answers; a 1 ms WAIT for all of them tells whether they all have it.
        if (is_int($replicas) && $replicas >= 1 && $replicas < $config['replicas']) {
            $replicas = max($replicas, (int) $wait($config['replicas'], 1));
        }
        if (is_int($replicas) && $replicas >= 1) {
            $say("wack $n " . $now() . " $replicas");
        }
    } catch (\Throwable $e) {
        $say('err ' . $now() . ' ' . $oneLine($e));
        $redis = null;
    }
    usleep($config['intervalMs'] * 1000);
}
$say('done');
