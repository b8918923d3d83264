"""The demonstration's threads: the Community Care case, and a smaller blog post.

The six comments readers can still see under the Community Care article
(seeds/001) are reproduced with their authors, dates and texts. The critical
comments that their authors say were "moderated out" are not preserved
anywhere, so the ones here are invented stand-ins, marked as such in the
demo's output, and so are the moderator's actions: when each comment was
held, deleted or approved again, when the site was down. Each article is a
timeline; `Article.stage_at` says what its site shows at a moment, and the
demo captures it every few hours over the days after publication, on a
simulated clock, as the real thread was moderated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from archive.capture.watches import SIMULATED_SITE_MARK


@dataclass(frozen=True)
class DemoComment:
    id: int
    author: str
    posted_at: datetime
    paragraphs: tuple[str, ...]
    parent: int = 0
    author_url: str | None = None
    invented: bool = False
    # When the site's moderator took it down, and put it back (None: never).
    taken_down_at: datetime | None = None
    restored_at: datetime | None = None
    # The text its author edited it to, and when.
    edited_at: datetime | None = None
    edited_paragraphs: tuple[str, ...] = ()

    def shown_at(self, moment: datetime) -> bool:
        if moment < self.posted_at:
            return False
        down = self.taken_down_at is not None and self.taken_down_at <= moment
        back = self.restored_at is not None and self.restored_at <= moment
        return not down or back


@dataclass(frozen=True)
class Outage:
    """A time the site could not be trusted: 'maintenance' (HTTP 503) or
    'half-rendered' (the count says more comments than the page shows: a
    broken cache, never a removal)."""
    start: datetime
    end: datetime
    mode: str
    note: str


@dataclass(frozen=True)
class Stage:
    """What the site shows at one moment."""
    visible: tuple[int, ...] = ()
    edits: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # 'ok', or an Outage's mode.
    mode: str = "ok"


@dataclass(frozen=True)
class Article:
    url: str
    post_id: int
    title: str
    published: datetime
    paragraphs: tuple[str, ...]
    site_name: str
    comments: tuple[DemoComment, ...]
    # The demo's watch: a capture every `capture_every`, for `watched_for`
    # from the first capture, an hour after publication.
    capture_every: timedelta
    watched_for: timedelta
    outages: tuple[Outage, ...] = ()
    # How the site hides a comment it took down: 'hold' (unapproved, the
    # REST API answers 401) or 'delete' (gone, the REST API answers 404).
    takedown: str = "hold"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def comment(self, comment_id: int) -> DemoComment:
        return next(c for c in self.comments if c.id == comment_id)

    def capture_times(self) -> list[datetime]:
        first = self.published + timedelta(hours=1)
        count = int(self.watched_for / self.capture_every) + 1
        return [first + n * self.capture_every for n in range(count)]

    def stage_at(self, moment: datetime) -> Stage:
        visible = tuple(c.id for c in self.comments if c.shown_at(moment))
        edits = {c.id: c.edited_paragraphs for c in self.comments
                 if c.edited_at is not None and c.edited_at <= moment}
        mode = next((o.mode for o in self.outages if o.start <= moment < o.end), "ok")
        return Stage(visible, edits, mode)

    def happenings(self, after: datetime | None, until: datetime) -> list[tuple[datetime, str]]:
        """What the site's people did in (after, until], in order, for the demo's account."""
        hidden = "deletes" if self.takedown == "delete" else "holds"
        told = [(o.start, o.note) for o in self.outages]
        for c in self.comments:
            for when, note in ((c.taken_down_at, f"the moderator {hidden} {c.author}'s comment"),
                               (c.restored_at, f"{c.author}'s comment is approved again"),
                               (c.edited_at, f"{c.author} edits their comment")):
                if when is not None:
                    told.append((when, note))
        return sorted((when, note) for when, note in told
                      if (after is None or after < when) and when <= until)


PAUL_EXPERIENCE = (
    "one can only speak of one\u2019s own experience. In my case the CAFCASS officer said in her "
    "report that she had read a report from a previous cafcass officer and then admitted in evidence "
    "that she had not read it. Next, despite the fact that the case involved Parental Alienation, she "
    "had no understanding of this concept at all, and did not use cafcass\u2019s own Parental Conflict "
    "Tool. Perhaps this is not surprising given Anthony Douglas\u2019s admission to FNF (30-10-17) that "
    "only 2% of cafcass officers attend the (non-mandatory) PA training course. Also, the \u2018Tool\u2019 "
    "referred to mandates that the child\u2019s siblings be interviewed. No interview ever happened. The "
    "second cafcass officer managed to produce a report on PA without interviewing the alienating "
    "parent, her husband (the step-father) or me. Quite a feat\u2026",
    "Finally, on a more general note, cafcass produced a report last year about domestic violence, IN "
    "CONJUNCTION with a women\u2019s rights organisation, with no consultation with any of the "
    "men\u2019s/dads groups\u2026The obvious implication is that cafcass is institutionally gender-biased.",
)

WL_FIRST = ("This is bonkers. I know officers who never see their children, have supervision rarely "
            "and don\u2019t undertake assessment.",)
WL_FINAL = ("This is bonkers. I know officers who never see their children, have supervision rarely "
            "and don\u2019t undertake assessment. Like any organisation, There are some great workers and "
            "some great work being done, but it\u2019s inconsistent",)

COMMUNITY_CARE = Article(
    url="https://www.communitycare.co.uk/2018/03/29/"
        "cafcass-rated-outstanding-effective-leaders-practice-acts-childs-views/",
    post_id=8123,
    title="Cafcass rated \u2018outstanding\u2019 for effective leaders and practice that "
          "\u2018acts on the child\u2019s views\u2019",
    published=datetime(2018, 3, 29, 11, 0),
    site_name=f"Community Care {SIMULATED_SITE_MARK}",
    paragraphs=(
        "Ofsted inspectors find \u2018child-focussed\u2019 practice, \u2018aspirational\u2019 leadership and "
        "\u2018innovations\u2019 in technology within the family court advisory service",
        "Cafcass has been rated \u2018outstanding\u2019 after Ofsted inspectors found effective leadership, "
        "highly skilled staff and investment in technology and tools that help promote a child-centred "
        "approach to practice.",
        "In its latest inspection of the family court advisory service Ofsted praised practice focussed "
        "on \u201clistening to children, understanding their world and acting on their views\u201d while "
        "leadership was branded \u201cexceptional [and] aspirational\u201d.",
    ),
    comments=(
        DemoComment(101, "WL", datetime(2018, 3, 29, 15, 21), WL_FIRST,
                    edited_at=datetime(2018, 3, 30, 8, 12), edited_paragraphs=WL_FINAL),
        DemoComment(102, "Cha", datetime(2018, 3, 29, 21, 10), ("This is fantastic, we\u2019ll done.",)),
        DemoComment(103, "Nell", datetime(2018, 4, 4, 16, 23),
                    ("Lets assume they are not seeking to privatise Cafcass then.",),
                    taken_down_at=datetime(2018, 4, 4, 19, 40), restored_at=datetime(2018, 4, 10, 9, 30)),
        DemoComment(104, "Sarah T", datetime(2018, 4, 5, 8, 47), (
            "Outstanding for whom? Our Cafcass officer met my daughter once, for twenty minutes, and "
            "wrote that she \u201cshowed no wish\u201d to see her father. She had told us the opposite at "
            "home every week. Nobody listened to the child\u2019s views in our case.",), invented=True,
                    taken_down_at=datetime(2018, 4, 5, 21, 5)),
        DemoComment(105, "Paul", datetime(2018, 4, 7, 9, 59), PAUL_EXPERIENCE),
        DemoComment(106, "Paul", datetime(2018, 4, 7, 10, 9), (
            "As a sidenote, I observe that i know of other criticisms of cafcass that have been posted "
            "here and moderated out, so i guess this is not the place for open and frank discussion "
            "of the issue",)),
        DemoComment(107, "Dave R", datetime(2018, 4, 8, 19, 2), (
            "Ofsted inspected the files Cafcass chose to show them. Ask the families who complained: "
            "complaints went up every year from 2011 to 2014 and the complaints process stopped "
            "recording whether any were upheld.",), invented=True,
                    taken_down_at=datetime(2018, 4, 9, 10, 30)),
        DemoComment(110, "Mike", datetime(2018, 4, 11, 22, 15), (
            "I raised a formal complaint about our family court adviser\u2019s report and was told the "
            "judge would be \u201cmade aware\u201d. The judge never saw it. Cafcass marks its own "
            "homework.",),
                    invented=True, taken_down_at=datetime(2018, 4, 12, 7, 50)),
        DemoComment(108, "Mike", datetime(2018, 4, 12, 14, 37), (
            "Absolutely right Paul this is clearly not the place for honesty and integrity. My comment "
            "was removed but if anyone wants the truth, they are free to message me.",), parent=106),
    ),
    # Every 6 hours for 16 days: from the article to the last comment and two days on.
    capture_every=timedelta(hours=6),
    watched_for=timedelta(days=16),
    outages=(
        Outage(datetime(2018, 4, 10, 23, 10), datetime(2018, 4, 11, 0, 40), "maintenance",
               "the site is down for maintenance (HTTP 503): nothing may be concluded"),
        Outage(datetime(2018, 4, 13, 5, 30), datetime(2018, 4, 13, 6, 30), "half-rendered",
               "a broken cache serves half the page: the count says more comments than it shows"),
    ),
)

# The blog's address is not in the seed documents: a reserved .example name stands in for it.
TRANSPARENCY_BLOG = Article(
    url="https://familycourtblog.example/cafcass-complaints-data-between-2011-and-2014/",
    post_id=412,
    title="Cafcass Complaints \u2013 data between 2011 and 2014",
    published=datetime(2017, 10, 20, 9, 30),
    site_name=f"Family court transparency blog {SIMULATED_SITE_MARK}",
    paragraphs=(
        "In September 2014 Ricard Benyon the MP for Newbury posed the following question in "
        "Parliament: how many complaints have been made against the Children and Family Court "
        "Advisory and Support Service in the last three years; and how many such complaints have "
        "been upheld.",
        "In 2012 CAFCASS simplified their complaints process, reducing the number of stages involved "
        "from three to one and ending the classification of complaints as \u2018upheld\u2019.",
        "If you\u2019ve ever made a complaint to Cafcass we\u2019d be interested in your comments below. "
        "Please remember to NOT include any case specific information in your comment.",
    ),
    comments=(
        DemoComment(201, "Karen", datetime(2017, 10, 21, 8, 5), (
            "I was never given a feedback form in four years of proceedings.",), invented=True),
        DemoComment(202, "A father", datetime(2017, 10, 22, 17, 40), (
            "My complaint about the Cafcass officer was \u201cnotified to the court\u201d and then never "
            "mentioned again. No upheld category means nobody is ever found to be wrong.",),
                    invented=True, taken_down_at=datetime(2017, 10, 24, 9, 15)),
        DemoComment(203, "Tom", datetime(2017, 10, 23, 12, 12), (
            "Thank you for collecting these figures, they match what we saw.",), parent=201,
                    invented=True),
        DemoComment(204, "Lucy", datetime(2017, 10, 25, 20, 55), (
            "Same experience here. The feedback forms are not in the waiting room either.",),
                    invented=True),
    ),
    capture_every=timedelta(hours=8),
    watched_for=timedelta(days=10),
    takedown="delete",
)

ARTICLES = (COMMUNITY_CARE, TRANSPARENCY_BLOG)
