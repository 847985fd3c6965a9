<?php
/**
 * Plugin Name: redis-ha drill shop (lab test fixture)
 * Description: One shopper's page view for the lab's WordPress drills, through WordPress's own APIs only. It reads the shopper's cart, marks the order their previous page placed as paid, places a new order, records it in the object cache, and writes the cart back. Options are kept out of autoload, so each sits in the object cache on its own, as WooCommerce's data does. Prints what it saw as one JSON line and stops before any theme renders.
 */

if (isset($_GET['redis_ha_drill'])) {
    add_action('init', function () {
        $shopper = (int) $_GET['shopper'];
        $n = (int) $_GET['n'];
        $cart = 'redis_ha_drill_cart_' . $shopper;
        // A fresh PHP process has no runtime cache: this is what Redis (or, on a miss, the database) holds.
        $seen = get_option($cart, null);
        // A page in flight across the fault: its Redis connection stays open until the drill says the
        // fault is in place (bounded), so its next command meets the fault on the wire.
        $hold = getenv('REDIS_HA_DRILL_HOLD');
        if ($hold) {
            touch("$hold.holding");
            for ($i = 0; $i < 200 && !file_exists("$hold.go"); $i++) {
                usleep(100000);
            }
        }
        // An update of an entry that is in the cache: if its invalidation is lost, the cache keeps "placed".
        if (!empty($_GET['previous'])) {
            update_option('redis_ha_drill_order_' . $shopper . '_' . (int) $_GET['previous'], 'paid', false);
        }
        update_option('redis_ha_drill_order_' . $shopper . '_' . $n, 'placed', false);
        $ack = wp_cache_set("order:$shopper:$n", (string) $n, 'redis-ha-drill');
        $wrote = update_option($cart, (string) $n, false);
        global $wp_object_cache;
        echo 'REDIS-HA-DRILL ', json_encode([
            'seen' => $seen,
            'ack' => $ack,
            'wrote' => $wrote,
            'redis' => method_exists($wp_object_cache, 'redis_status') && $wp_object_cache->redis_status(),
            'flushed' => isset($GLOBALS['redis_ha_object_cache_flushed']),
        ]), "\n";
        exit;
    });
}
