"""WordPress comments, three ways: the article page (`page`), the REST API
(`api`) and the comments feed (`feed`). They share how a comment's HTML
becomes text (scrapers/text.py) and how the article page is read, so a
comment read one way and then another never looks edited, and how a comment
that went missing is looked up in the REST API (`status`)."""
from scrapers.wordpress.api import WordPressApiAdapter
from scrapers.wordpress.feed import WordPressFeedAdapter
from scrapers.wordpress.page import WordPressAdapter

__all__ = ["WordPressAdapter", "WordPressApiAdapter", "WordPressFeedAdapter"]
