<?php
// Installs the drill shop into an empty database, with the Redis Object Cache plugin active.
// Usage: php install.php <site dir>
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = 'shop.test';
require $argv[1] . '/wp-load.php';
function wp_new_blog_notification() {} // no sendmail here
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_install('redis-ha drill shop', 'admin', 'admin@shop.test', false, '', wp_generate_password(24));
update_option('active_plugins', ['redis-cache/redis-cache.php']);
echo "installed\n";
