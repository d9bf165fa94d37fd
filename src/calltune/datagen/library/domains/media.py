"""Media: movie, TV and book look-ups. All simulated (a catalogue service the teacher plays)."""

from __future__ import annotations

from ._spec import function_spec, number, string

DOMAIN = "media"

_GENRES = [
    "action",
    "comedy",
    "drama",
    "documentary",
    "horror",
    "romance",
    "science_fiction",
    "animation",
    "thriller",
]

SPECS = [
    function_spec(
        "search_movies",
        "Search the film catalogue by title words, optionally narrowed by release year and genre.",
        {
            "query": string("Words from the title."),
            "year": number("Release year.", integer=True),
            "genre": string("Genre.", enum=_GENRES),
            "limit": number("Most results to return.", integer=True, minimum=1, maximum=50, default=10),
        },
        ["query"],
    ),
    function_spec(
        "get_film_details",
        "Full details of one film: cast, director, runtime, rating and synopsis.",
        {
            "movie_id": string("Catalogue identifier of the film."),
            "language": string(
                "Language of the synopsis.", enum=["en", "zh", "es", "fr", "de", "ja"], default="en"
            ),
        },
        ["movie_id"],
    ),
    function_spec(
        "find_streaming_availability",
        "Which streaming services offer a film or series in a country, and whether to rent, buy or stream.",
        {
            "title": string("Title of the film or series."),
            "country_code": string("Two-letter country code."),
            "offer_type": string(
                "Kind of offer.", enum=["subscription", "rent", "buy", "any"], default="any"
            ),
        },
        ["title", "country_code"],
    ),
    function_spec(
        "list_tv_episodes",
        "The episodes of one season of a TV series with titles and air dates.",
        {
            "series_title": string("Title of the series."),
            "season": number("Season number.", integer=True, minimum=1),
        },
        ["series_title", "season"],
    ),
    function_spec(
        "search_book_catalogue",
        "Search the book catalogue by title, author or subject.",
        {
            "query": string("Title words or subject."),
            "author": string("Author's name."),
            "language": string("Language of the edition.", enum=["en", "zh", "es", "fr", "de", "ja"]),
            "sort": string("Result order.", enum=["relevance", "newest", "rating"], default="relevance"),
        },
        ["query"],
    ),
    function_spec(
        "get_book_by_isbn",
        "Details of a book edition by its ISBN: title, authors, publisher, pages and description.",
        {"isbn": string("ISBN-10 or ISBN-13 of the edition.")},
        ["isbn"],
    ),
]
