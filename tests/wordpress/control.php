<?php
/*
 * Control script for a loopback test site: `php control.php CONFIG ROOT HOST`
 * reads a JSON list of [operation, arguments] pairs on stdin, runs them in
 * order inside WordPress and prints one line "WPLOOP-RESULT <json>" with the
 * list of results (or {"error": ...} and exit status 1 at the first failure).
 *
 * wp-load.php runs in this file's global scope and overwrites common global
 * names ($action, $post, $comment, ...), so every variable here is prefixed.
 */
$wploop_config = $argv[1];
$wploop_root = rtrim($argv[2], '/') . '/';
$_SERVER['WORDPRESS_CONFIG'] = $wploop_config;
$_SERVER['HTTP_HOST'] = $argv[3];
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
define('ABSPATH', $wploop_root);

$wploop_ops = json_decode(stream_get_contents(STDIN), true);
if (!is_array($wploop_ops)) {
    fwrite(STDOUT, 'WPLOOP-RESULT ' . json_encode(['error' => 'stdin is not a JSON list']) . "\n");
    exit(1);
}
foreach ($wploop_ops as $wploop_op) {
    if ($wploop_op[0] === 'install') {
        define('WP_INSTALLING', true);
    }
}
require ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/comment.php';

function wploop_fail(string $message): void
{
    throw new RuntimeException($message);
}

/* Naive UTC "Y-m-d H:i:s" (or null for now) to WordPress's pair of local and GMT dates. */
function wploop_dates(?string $gmt): array
{
    $gmt = $gmt ?? gmdate('Y-m-d H:i:s');
    return [get_date_from_gmt($gmt), $gmt];
}

function wploop_comment_id(array $args): int
{
    $id = (int) $args['comment_id'];
    if (!get_comment($id)) {
        wploop_fail("no comment $id");
    }
    return $id;
}

function wploop_run(string $name, array $args)
{
    global $wp_rewrite;
    switch ($name) {
        case 'install':
            // wp_install probes the site over HTTP to choose permalinks: not wanted here.
            add_filter('pre_http_request', function () {
                return new WP_Error('wploop', 'no HTTP while installing');
            });
            $result = wp_install($args['title'], 'admin', 'admin@example.invalid', true, '', wp_generate_password(24));
            if (is_wp_error($result)) {
                wploop_fail($result->get_error_message());
            }
            return true;
        case 'add_post':
            [$local, $gmt] = wploop_dates($args['date'] ?? null);
            $id = wp_insert_post([
                'post_title' => $args['title'],
                'post_content' => $args['content'],
                'post_status' => 'publish',
                'post_type' => 'post',
                'comment_status' => 'open',
                'post_date' => $local,
                'post_date_gmt' => $gmt,
            ], true);
            if (is_wp_error($id)) {
                wploop_fail($id->get_error_message());
            }
            return [$id, get_permalink($id)];
        case 'set_comments_open':
            $done = wp_update_post(['ID' => (int) $args['post_id'],
                                    'comment_status' => $args['open'] ? 'open' : 'closed'], true);
            if (is_wp_error($done)) {
                wploop_fail($done->get_error_message());
            }
            return true;
        case 'add_comment':
            if (!get_post((int) $args['post_id'])) {
                wploop_fail('no post ' . $args['post_id']);
            }
            [$local, $gmt] = wploop_dates($args['date'] ?? null);
            $id = wp_insert_comment([
                'comment_post_ID' => (int) $args['post_id'],
                'comment_author' => $args['author'],
                'comment_author_email' => $args['email'] ?? '',
                'comment_author_url' => $args['author_url'] ?? '',
                'comment_content' => $args['text'],
                'comment_parent' => (int) ($args['parent'] ?? 0),
                'comment_approved' => $args['approved'] ? 1 : 0,
                'comment_date' => $local,
                'comment_date_gmt' => $gmt,
                'comment_type' => 'comment',
            ]);
            if (!$id) {
                wploop_fail('wp_insert_comment failed');
            }
            return $id;
        case 'set_comment_status':
            if (!in_array($args['status'], ['approve', 'hold', 'spam'], true)) {
                wploop_fail('status must be approve, hold or spam');
            }
            $done = wp_set_comment_status(wploop_comment_id($args), $args['status'], true);
            if (is_wp_error($done) || !$done) {
                wploop_fail('wp_set_comment_status failed');
            }
            return true;
        case 'trash_comment':
            if (!wp_trash_comment(wploop_comment_id($args))) {
                wploop_fail('wp_trash_comment failed');
            }
            return true;
        case 'delete_comment':
            if (!wp_delete_comment(wploop_comment_id($args), true)) {
                wploop_fail('wp_delete_comment failed');
            }
            return true;
        case 'edit_comment':
            $done = wp_update_comment(['comment_ID' => wploop_comment_id($args),
                                       'comment_content' => $args['text']], true);
            if (is_wp_error($done)) {
                wploop_fail($done->get_error_message());
            }
            return true;
        case 'comment_status':
            $status = wp_get_comment_status((int) $args['comment_id']);
            return $status === false ? null : $status;
        case 'set_option':
            if ($args['name'] === 'permalink_structure') {
                $wp_rewrite->set_permalink_structure($args['value']);
                $wp_rewrite->flush_rules(false);
                return true;
            }
            update_option($args['name'], $args['value']);
            return true;
        case 'get_option':
            return get_option($args['name'], null);
        case 'switch_theme':
            if (!wp_get_theme($args['slug'])->exists()) {
                wploop_fail('no theme ' . $args['slug']);
            }
            switch_theme($args['slug']);
            return true;
        case 'permalink':
            return get_permalink((int) $args['post_id']);
    }
    wploop_fail("unknown operation $name");
}

$wploop_results = [];
try {
    foreach ($wploop_ops as [$wploop_name, $wploop_args]) {
        $wploop_results[] = wploop_run($wploop_name, (array) $wploop_args);
    }
} catch (Throwable $wploop_error) {
    fwrite(STDOUT, "\nWPLOOP-RESULT " . json_encode(['error' => $wploop_error->getMessage()]) . "\n");
    exit(1);
}
fwrite(STDOUT, "\nWPLOOP-RESULT " . json_encode(['results' => $wploop_results]) . "\n");
