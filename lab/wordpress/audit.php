<?php
// After a drill: compares what the object cache serves with the database for every option the
// drill wrote (carts and orders), the way the next page would read them, and finds acknowledged
// cache writes that Redis does not have.
// Usage: php audit.php <site dir> <input.json>, input {"options": [name, ...], "acked": [[shopper, n], ...]}.
$_SERVER['HTTP_HOST'] = 'shop.test';
// The audit must not clean up what it is there to find.
define('WP_REDIS_HA_FLUSH_AFTER_FAILOVER', false);
require $argv[1] . '/wp-load.php';
$input = json_decode(file_get_contents($argv[2]), true);
global $wpdb, $wp_object_cache;
$out = [
    'external' => wp_using_ext_object_cache(),
    'redis' => method_exists($wp_object_cache, 'redis_status') && $wp_object_cache->redis_status(),
    'stale' => [],
    'missing' => [],
];
foreach ($input['options'] as $option) {
    $stored = $wpdb->get_var($wpdb->prepare("SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", $option));
    $cached = wp_cache_get($option, 'options', true);
    if ($cached !== false && $cached !== $stored) {
        $out['stale'][] = ['option' => $option, 'cache' => $cached, 'database' => $stored];
    }
}
foreach ($input['acked'] as $write) {
    list($shopper, $n) = $write;
    if (wp_cache_get("order:$shopper:$n", 'redis-ha-drill', true) !== (string) $n) {
        $out['missing'][] = $write;
    }
}
echo 'REDIS-HA-AUDIT ', json_encode($out), "\n";
