<?php
/*
 * Router for `php -S` serving one loopback test site.
 *
 * Each test site has its own document root (symlinks into the Debian
 * WordPress tree) and its own /etc/wordpress/config-<name>.php, so several
 * test sessions on one machine never share a config file, a .maintenance
 * file or an mu-plugin. The harness passes both through the environment.
 * Existing PHP files run as themselves, static files are served by php -S,
 * and everything else goes to index.php (pretty permalinks, /wp-json/).
 */
$wploop_root = rtrim((string) getenv('WPLOOP_ROOT'), '/') . '/';
$_SERVER['WORDPRESS_CONFIG'] = (string) getenv('WPLOOP_CONFIG');
define('ABSPATH', $wploop_root);
unset($_SERVER['PATH_INFO'], $_SERVER['ORIG_PATH_INFO']);

$wploop_path = rawurldecode((string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
$wploop_hidden = strpos($wploop_path, '/.') !== false;
$wploop_file = $wploop_root . ltrim($wploop_path, '/');
if (!$wploop_hidden && is_dir($wploop_file) && is_file(rtrim($wploop_file, '/') . '/index.php')) {
    $wploop_file = rtrim($wploop_file, '/') . '/index.php';
    $wploop_path = rtrim($wploop_path, '/') . '/index.php';
}
if (!$wploop_hidden && is_file($wploop_file)) {
    if (substr($wploop_file, -4) !== '.php') {
        return false;
    }
    $_SERVER['SCRIPT_FILENAME'] = $wploop_file;
    $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $wploop_path;
    chdir(dirname($wploop_file));
    require $wploop_file;
    return true;
}
$_SERVER['SCRIPT_FILENAME'] = $wploop_root . 'index.php';
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/index.php';
chdir($wploop_root);
require $wploop_root . 'index.php';
return true;
