<?php
// What the plugin's Settings > Redis > Diagnostics tab shows a WordPress admin, printed as it renders it.
// Usage: php diagnostics.php <site dir>
$_SERVER['HTTP_HOST'] = 'shop.test';
require $argv[1] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/file.php';
$roc = Rhubarb\RedisCache\Plugin::instance();
require WP_REDIS_PLUGIN_PATH . '/includes/diagnostics.php';
