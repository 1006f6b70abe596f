"""Template search and recommendations are ranked, explain themselves and reject empty queries."""

from __future__ import annotations

import pytest

from imagestudio.catalog.search import recommend_templates, search_templates, stem
from imagestudio.errors import InvalidInput


def ids(matches: list) -> list[str]:
    return [m.template.id for m in matches]


# --- search ------------------------------------------------------------------------------------


def test_name_matches_rank_above_use_case_matches() -> None:
    results = search_templates("product")
    assert ids(results)[:3] == ["email_product", "instagram_feed_square", "facebook_feed_square"]
    assert results[0].score > results[1].score
    assert "name 'Email Product Image' matches 'product'" in results[0].reasons


def test_two_word_query_ranks_the_template_matching_both_first() -> None:
    assert ids(search_templates("youtube thumbnail"))[:3] == [
        "youtube_thumbnail",
        "youtube_channel_art",
        "instagram_reel_cover",
    ]


@pytest.mark.parametrize("query", ["recipes", "Recipe", "RECIPES"])
def test_plural_stemming_and_case_and_use_case_order(query: str) -> None:
    # Pinterest Pin lists 'Recipes' first, the Story Pin second: the primary use case ranks higher.
    assert ids(search_templates(query)) == ["pinterest_pin", "pinterest_story"]


def test_prefix_matching() -> None:
    results = search_templates("insta")
    assert set(ids(results)) == {
        "instagram_feed_square",
        "instagram_feed_portrait",
        "instagram_story",
        "instagram_reel_cover",
    }
    assert "'insta' (as in 'instagram')" in results[0].reasons[0]


def test_plural_query_finds_singular_names() -> None:
    assert set(ids(search_templates("stories"))[:3]) == {
        "instagram_story",
        "facebook_story",
        "pinterest_story",
    }


def test_platform_alias_counts_as_a_match() -> None:
    assert ids(search_templates("x header"))[0] == "twitter_header"


def test_results_report_matched_terms_and_respect_the_limit() -> None:
    results = search_templates("the product showcase", limit=2)
    assert len(results) == 2
    assert results[0].matched_terms == ["product", "showcase"]  # 'the' is a stop word


def test_no_match_is_an_empty_list() -> None:
    assert search_templates("zzzz") == []


@pytest.mark.parametrize("query", ["", "   ", "the of", "!!!"])
def test_blank_queries_are_rejected(query: str) -> None:
    with pytest.raises(InvalidInput) as err:
        search_templates(query)
    assert err.value.status == 422


@pytest.mark.parametrize("limit", [0, 51])
def test_limit_out_of_range(limit: int) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 50"):
        search_templates("product", limit=limit)


# --- recommend ---------------------------------------------------------------------------------


def test_recommend_ranks_the_exact_use_case_first_and_primary_uses_higher() -> None:
    results = recommend_templates("product showcase", limit=5)
    assert set(ids(results)[:3]) == {"email_product", "instagram_feed_square", "facebook_feed_square"}
    assert ids(results)[3:] == ["instagram_feed_portrait", "pinterest_pin"]
    assert results[0].reasons[0].endswith("matches the whole phrase")
    scores = [m.score for m in results]
    assert scores == sorted(scores, reverse=True)


def test_recommend_on_one_platform_is_ranked_not_just_filtered() -> None:
    results = recommend_templates("product showcase", platform="instagram")
    assert ids(results) == ["instagram_feed_square", "instagram_feed_portrait", "instagram_reel_cover"]
    assert results[0].score > results[1].score > results[2].score


def test_recommend_prefers_the_template_whose_primary_use_it_is() -> None:
    assert ids(recommend_templates("announcements", platform="facebook")) == [
        "facebook_story",
        "facebook_feed",
    ]


def test_recommend_finds_linkedin_for_hiring() -> None:
    assert set(ids(recommend_templates("hiring"))) == {"linkedin_post", "linkedin_cover"}


def test_recommend_platform_alias_and_unknown_platform() -> None:
    assert {m.template.platform for m in recommend_templates("announcements", platform="x")} == {"twitter"}
    with pytest.raises(InvalidInput, match="Valid platform values: blog, email"):
        recommend_templates("announcements", platform="myspace")


def test_recommend_rejects_a_blank_use_case() -> None:
    with pytest.raises(InvalidInput, match="'use_case' is empty"):
        recommend_templates(" ")


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("stories", "story"),
        ("recipes", "recipe"),
        ("boxes", "box"),
        ("ads", "ad"),
        ("status", "status"),
        ("glass", "glass"),
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed
