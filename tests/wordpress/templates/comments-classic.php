<?php
/*
 * An old-style comments template (the shape of Kubrick-era and many news
 * themes): "N Responses to “Title”", ol.commentlist, a custom callback.
 */
if (post_password_required()) {
    return;
}
?>
<div id="comments">
<?php if (have_comments()) : ?>
    <h3 id="comments-title"><?php
        printf(
            _n('One Response to %2$s', '%1$s Responses to %2$s', get_comments_number()),
            number_format_i18n(get_comments_number()),
            '&#8220;' . get_the_title() . '&#8221;'
        ); ?></h3>
    <ol class="commentlist">
        <?php wp_list_comments(['callback' => 'wploop_classic_comment', 'style' => 'ol']); ?>
    </ol>
    <div class="navigation">
        <div class="alignleft"><?php previous_comments_link(); ?></div>
        <div class="alignright"><?php next_comments_link(); ?></div>
    </div>
<?php endif; ?>
<?php if (!comments_open() && get_comments_number()) : ?>
    <p class="nocomments">Comments are closed.</p>
<?php endif; ?>
<?php comment_form(); ?>
</div>
