"""Normalisation of titles, names and category names (festival_pipeline.enhance.normalize)."""

from __future__ import annotations

import pytest

from festival_pipeline.enhance.normalize import (
    canonical_category,
    category_key,
    category_similarity,
    fold,
    name_in_text,
    normalize_category,
    normalize_name,
    normalize_title,
    title_similarity,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Amélie", "amelie"),
        ("Les Misérables", "les miserables"),
        ("Fanny & Alexander", "fanny and alexander"),
        ("Alice Doesn't Live Here Anymore", "alice doesnt live here anymore"),
        ("Alice Doesn\u2019t Live Here Anymore", "alice doesnt live here anymore"),
        ("Palme d'Or", "palme dor"),
        ("Straße — Ørsted, Łódź", "strasse orsted lodz"),
        ("  Mr.   Smith  Goes to Washington ", "mr smith goes to washington"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold(text: str | None, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("The Godfather Part II", "godfather part 2"),
        ("The Godfather: Part 2", "godfather part 2"),
        ("Godfather Part II, The", "godfather part 2"),
        ("A Star Is Born", "star is born"),
        ("An American in Paris", "american in paris"),
        ("Rocky IV", "rocky 4"),
        ("I, Robot", "i robot"),  # a single "I" is a word, not a numeral
        ("Mix", "mix"),  # only numerals up to 39 made of I, V, X
        ("The", "the"),  # nothing left after the article: keep it
    ],
)
def test_normalize_title(title: str, expected: str) -> None:
    assert normalize_title(title) == expected


def test_normalize_title_roman_optional() -> None:
    assert normalize_title("Rocky IV", roman=False) == "rocky iv"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Godfather Part II", "Godfather: Part II"),
        ("Amélie", "AMELIE"),
        ("Fanny and Alexander", "Fanny & Alexander"),
        ("Anatomy of a Fall", "Anatomy of a Fall!"),
        ("Samurai, The Legend of Musashi", "Samurai: The Legend of Musashi"),
    ],
)
def test_title_similarity_high_for_variants(a: str, b: str) -> None:
    assert title_similarity(a, b) >= 90


def test_title_similarity_low_for_different_films() -> None:
    assert title_similarity("Oppenheimer", "Barbie") < 50
    assert title_similarity("", "Barbie") == 0.0


def test_names() -> None:
    assert normalize_name("Melvin Metcalfe, Sr.") == normalize_name("Melvin Metcalfe Sr.")
    assert normalize_name("François Truffaut") == normalize_name("Francois Truffaut")


def test_name_in_text() -> None:
    credit = "Art Direction: Richard Sylbert, W. Stewart Campbell; Set Decoration: Ruby Levitt"
    assert name_in_text("W. Stewart Campbell", credit) == 100.0
    assert name_in_text("Ruby Levitt", credit) == 100.0
    assert name_in_text("Ruby Levit", credit) >= 90  # one letter off
    assert name_in_text("Dean Tavoularis", credit) < 70
    assert name_in_text("Al", "Alan Smith") == 0.0  # short names must be whole tokens


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        (("Actor", "Actor in a Leading Role", "Best Actor in a Leading Role",
          "Best Performance by an Actor in a Leading Role"), "Actor in a Leading Role"),
        (("Actress in a Supporting Role", "Best Performance by an Actress in a Supporting Role"),
         "Actress in a Supporting Role"),
        (("Best Picture", "Best Motion Picture of the Year", "Outstanding Picture", "Outstanding Production",
          "Outstanding Motion Picture", "Best Motion Picture", "Best Picture, Production"), "Best Picture"),
        (("Directing", "Best Director", "Best Achievement in Directing"), "Directing"),
        (("Writing (Screenplay—Adapted)", "Writing (Screenplay--Adapted)",
          "Best Writing, Screenplay Based on Material from Another Medium", "Writing (Adaptation)",
          "Best Adapted Screenplay", "Writing (Screenplay Based on Material Previously Produced or Published)",
          "Writing"), "Writing (Adapted Screenplay)"),
        (("Writing (Original Screenplay)", "Best Original Screenplay", "Writing (Story and Screenplay)",
          "Writing (Story and Screenplay—based on material not previously published or produced)",
          "Best Writing, Screenplay Written Directly for the Screen"), "Writing (Original Screenplay)"),
        (("Writing (Original Story)", "Best Writing, Motion Picture Story"), "Writing (Original Story)"),
        (("Art Direction", "Production Design", "Best Achievement in Production Design",
          "Best Art Direction-Set Decoration, Black-and-White or Color"), "Production Design"),
        (("Art Direction (Color)", "Best Art Direction-Interior Decoration, Color"), "Production Design (Color)"),
        (("Cinematography (Black-and-White)", "Best Cinematography, Black-and-White"),
         "Cinematography (Black-and-White)"),
        (("Sound", "Sound Mixing", "Sound Recording", "Best Sound, Recording", "Best Achievement in Sound Mixing"),
         "Sound"),
        (("Sound Effects", "Sound Effects Editing", "Best Effects, Sound Effects", "Sound Editing"), "Sound Editing"),
        (("Special Effects", "Engineering Effects", "Best Effects, Special Visual Effects", "Visual Effects"),
         "Visual Effects"),
        (("Music (Original Song)", "Music (Song)", "Music (Song—Original for the Picture)",
          "Best Achievement in Music Written for Motion Pictures (Original Song)"), "Music (Original Song)"),
        (("Music (Original Score)", "Music (Music Score of a Dramatic or Comedy Picture)",
          "Music (Original Score—for a motion picture [not a musical])"), "Music (Original Score)"),
        (("Music (Scoring)", "Music (Scoring of a Musical Picture)", "Music (Adaptation Score)",
          "Best Music, Original Song Score and Its Adaptation or Best Adaptation Score"),
         "Music (Original Song Score or Adaptation Score)"),
        (("Foreign Language Film", "International Feature Film", "Best Foreign Language Film of the Year",
          "Honorary Foreign Language Film Award"), "International Feature Film"),
        (("Short Subject (Cartoon)", "Best Short Subject, Cartoons", "Animated Short Film",
          "Short Film (Animated)"), "Animated Short Film"),
        (("Documentary (Feature)", "Documentary", "Best Documentary, Features", "Documentary Feature Film"),
         "Documentary Feature Film"),
        (("Documentary (Short Subject)", "Best Documentary, Short Subjects"), "Documentary Short Film"),
        (("Makeup", "Best Makeup", "Makeup and Hairstyling"), "Makeup and Hairstyling"),
        (("Irving G. Thalberg Memorial Award",), "Irving G. Thalberg Memorial Award"),
        (("John A. Bonner Medal of Commendation", "John A. Bonner Award"), "John A. Bonner Medal of Commendation"),
        (("Scientific or Technical Award (Class II)", "Scientific and Engineering Award"),
         "Scientific and Engineering Award"),
        (("Scientific or Technical Award (Class III)", "Technical Achievement Award"), "Technical Achievement Award"),
        (("Special Achievement Award (Visual Effects)",), "Special Achievement Award (Visual Effects)"),
    ],
)
def test_canonical_category_across_eras_and_sites(spellings: tuple[str, ...], canonical: str) -> None:
    assert {canonical_category(s) for s in spellings} == {canonical}
    assert len({category_key(s) for s in spellings}) == 1


@pytest.mark.parametrize("text", ["Palme d'Or", "Golden Lion", "FIPRESCI Prize", "Un Certain Regard Award", ""])
def test_unknown_categories_have_no_canonical_name(text: str) -> None:
    assert canonical_category(text) is None


def test_category_similarity() -> None:
    assert category_similarity("Actor", "Best Performance by an Actor in a Leading Role") == 100.0
    # same family, different category: never confused
    assert category_similarity("Sound", "Sound Editing") <= 40
    assert category_similarity("Writing (Adapted Screenplay)", "Best Original Screenplay") <= 40
    assert category_similarity("Actor in a Leading Role", "Actor in a Supporting Role") <= 40
    # unknown (festival) names: fuzzy
    assert category_similarity("Best Film", "Best Film") == 100.0
    assert category_similarity("Prix du Jury", "Jury Prize") < 100


def test_normalize_category_strips_imdb_prefixes() -> None:
    assert normalize_category("Best Achievement in Cinematography") == "cinematography"
    assert normalize_category("Best Performance by an Actress in a Leading Role") == "actress in a leading role"
    assert normalize_category("Best") == "best"
