<?php
/*
 * Plugin Name: Loopback test hooks
 * Description: Keeps a test site quiet and lean, and lets a test choose the comment
 * markup through the site's own option `wploop_comment_markup`:
 *   ""                 the theme's own markup;
 *   "xhtml"            a classic theme without html5 comment support
 *                      (li#comment-N > div#div-comment-N, no <time>);
 *   "classic-callback" an old-style theme with its own comments template and
 *                      wp_list_comments callback (li#li-comment-N > div#comment-N,
 *                      "6 Responses to ..." heading), as many news sites run.
 * The option lives in the site's own database, so concurrent test sites on
 * one machine never see each other's choice.
 */

add_filter('pre_wp_mail', '__return_false');

// Leaner pages (saved as fixtures): no emoji loader, no duotone SVG filters.
// Many production sites switch these off too; neither touches comments.
remove_action('wp_head', 'print_emoji_detection_script', 7);
remove_action('wp_print_styles', 'print_emoji_styles');
remove_action('wp_body_open', 'wp_global_styles_render_svg_filters');
remove_action('wp_footer', 'wp_global_styles_render_svg_filters');

add_action('after_setup_theme', function () {
    if (get_option('wploop_comment_markup') !== 'xhtml') {
        return;
    }
    $support = get_theme_support('html5');
    remove_theme_support('html5');
    if (is_array($support) && isset($support[0]) && is_array($support[0])) {
        $kept = array_values(array_diff($support[0], ['comment-list', 'comment-form']));
        if ($kept) {
            add_theme_support('html5', $kept);
        }
    }
}, 99);

add_filter('comments_template', function ($template) {
    if (get_option('wploop_comment_markup') === 'classic-callback') {
        return dirname(__DIR__) . '/templates/comments-classic.php';
    }
    return $template;
});

function wploop_classic_comment($comment, $args, $depth)
{
    $GLOBALS['comment'] = $comment;
    ?>
    <li <?php comment_class(); ?> id="li-comment-<?php comment_ID(); ?>">
        <div id="comment-<?php comment_ID(); ?>">
            <div class="comment-author vcard">
                <?php echo get_avatar($comment, 40); ?>
                <cite class="fn"><?php comment_author_link(); ?></cite> <span class="says">says:</span>
            </div>
            <?php if ('0' === (string) $comment->comment_approved) : ?>
                <em class="comment-awaiting-moderation">Your comment is awaiting moderation.</em>
            <?php endif; ?>
            <div class="comment-meta commentmetadata">
                <a href="<?php echo esc_url(get_comment_link($comment)); ?>"><?php
                    printf('%1$s at %2$s', get_comment_date(), get_comment_time()); ?></a>
                <a class="comment-permalink" href="#comment-<?php comment_ID(); ?>">#</a>
            </div>
            <div class="comment-body"><?php comment_text(); ?></div>
            <div class="reply">
                <?php comment_reply_link(array_merge($args, ['depth' => $depth, 'max_depth' => $args['max_depth']])); ?>
            </div>
        </div>
    <?php
    // No closing </li>: wp_list_comments adds it after the replies.
}
