"""Social media: posts, replies, followers and engagement. All simulated (a social platform the teacher plays)."""

from __future__ import annotations

from ._spec import array, function_spec, number, string

DOMAIN = "social"

_PLATFORM = string(
    "Social platform.", enum=["microblog", "photo", "video", "professional"], default="microblog"
)

SPECS = [
    function_spec(
        "create_social_post",
        "Publish a post on the user's account, now or at a scheduled time.",
        {
            "text": string("Text of the post."),
            "platform": _PLATFORM,
            "visibility": string(
                "Who can see the post.", enum=["public", "followers", "private"], default="public"
            ),
            "image_urls": array("Images to attach.", string("Image URL.")),
            "schedule_at": string("Publication time; publishes now when omitted.", fmt="date-time"),
        },
        ["text"],
    ),
    function_spec(
        "reply_to_post",
        "Reply to an existing post.",
        {"post_id": string("Identifier of the post replied to."), "text": string("Text of the reply.")},
        ["post_id", "text"],
    ),
    function_spec(
        "get_follower_count",
        "Number of followers and accounts followed of a user account.",
        {"username": string("Account name without the @."), "platform": _PLATFORM},
        ["username"],
    ),
    function_spec(
        "list_recent_posts",
        "The most recent posts of an account, newest first.",
        {
            "username": string("Account name without the @."),
            "platform": _PLATFORM,
            "limit": number("Most posts to return.", integer=True, minimum=1, maximum=100, default=10),
        },
        ["username"],
    ),
    function_spec(
        "get_post_engagement",
        "Likes, shares, comments and views of one post.",
        {"post_id": string("Identifier of the post.")},
        ["post_id"],
    ),
    function_spec(
        "follow_account",
        "Follow or unfollow another account.",
        {
            "username": string("Account name without the @."),
            "action": string("Whether to follow or unfollow.", enum=["follow", "unfollow"], default="follow"),
        },
        ["username"],
    ),
    function_spec(
        "search_posts_by_hashtag",
        "Find recent public posts that use a hashtag.",
        {
            "hashtag": string("Hashtag without the #."),
            "platform": _PLATFORM,
            "since": string("Only posts after this date.", fmt="date"),
            "limit": number("Most posts to return.", integer=True, minimum=1, maximum=100, default=20),
        },
        ["hashtag"],
    ),
]
