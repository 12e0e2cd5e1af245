"""Category classification table (festival_pipeline.enhance.category_types)."""

from __future__ import annotations

import pytest

from festival_pipeline.enhance.category_types import CATEGORY_TYPES, classify_category
from festival_pipeline.model import CATEGORY_TYPES as MODEL_CATEGORY_TYPES

OSCARS = [
    # acting and directing honour people
    ("Oscar", "Actor in a Leading Role", "person", True),
    ("Oscar", "Actor", "person", True),
    ("Oscar", "Actress in a Supporting Role", "person", True),
    ("Oscar", "Best Performance by an Actress in a Leading Role", "person", True),
    ("Oscar", "Directing", "person", True),
    ("Oscar", "Directing (Comedy Picture)", "person", True),
    ("Oscar", "Best Achievement in Directing", "person", True),
    # writing: the writers are the nominees -> person
    ("Oscar", "Writing (Adapted Screenplay)", "person", True),
    ("Oscar", "Writing (Original Story)", "person", True),
    ("Oscar", "Writing", "person", True),
    ("Oscar", "Writing (Title Writing)", "person", True),
    # film categories: the film is honoured (producers named)
    ("Oscar", "Best Picture", "film", False),
    ("Oscar", "Outstanding Production", "film", False),
    ("Oscar", "Best Motion Picture of the Year", "film", False),
    ("Oscar", "Unique and Artistic Picture", "film", False),
    ("Oscar", "International Feature Film", "film", False),
    ("Oscar", "Foreign Language Film", "film", False),
    ("Oscar", "Documentary Feature Film", "film", False),
    ("Oscar", "Documentary (Short Subject)", "film", False),
    ("Oscar", "Animated Feature Film", "film", False),
    ("Oscar", "Short Subject (Cartoon)", "film", False),
    ("Oscar", "Live Action Short Film", "film", False),
    ("Oscar", "Short Subject (One-reel)", "film", False),
    # crafts
    ("Oscar", "Cinematography", "technical", True),
    ("Oscar", "Cinematography (Color)", "technical", True),
    ("Oscar", "Film Editing", "technical", True),
    ("Oscar", "Sound", "technical", True),
    ("Oscar", "Sound Recording", "technical", True),
    ("Oscar", "Sound Effects Editing", "technical", True),
    ("Oscar", "Visual Effects", "technical", True),
    ("Oscar", "Engineering Effects", "technical", True),
    ("Oscar", "Makeup and Hairstyling", "technical", True),
    ("Oscar", "Costume Design (Black-and-White)", "technical", True),
    ("Oscar", "Production Design", "technical", True),
    ("Oscar", "Art Direction", "technical", True),
    ("Oscar", "Music (Original Score)", "technical", True),
    ("Oscar", "Music (Original Song)", "technical", True),
    ("Oscar", "Music (Scoring)", "technical", True),
    ("Oscar", "Dance Direction", "technical", True),
    ("Oscar", "Assistant Director", "technical", True),
    ("Oscar", "Casting", "technical", True),
    # Sci-Tech
    ("Scientific and Engineering Award", "Scientific and Engineering Award", "technical", True),
    ("Technical Achievement Award", "Technical Achievement Award", "technical", True),
    ("Academy Award of Merit", "Academy Award of Merit", "technical", True),
    ("Scientific and Technical Award", "Scientific and Technical Award (Special Award)", "technical", True),
    # special / honorary
    ("Honorary Award", "Honorary Award", "special", True),
    ("Special Award", "Special Award", "special", True),
    ("Irving G. Thalberg Memorial Award", "Irving G. Thalberg Memorial Award", "special", True),
    ("Jean Hersholt Humanitarian Award", "Jean Hersholt Humanitarian Award", "special", True),
    ("Gordon E. Sawyer Award", "Gordon E. Sawyer Award", "special", True),
    ("John A. Bonner Award", "John A. Bonner Award", "special", True),
    ("Medal of Commendation", "Medal of Commendation", "special", True),
    ("Award of Commendation", "Award of Commendation", "special", True),
    ("Special Achievement Award", "Special Achievement Award (Visual Effects)", "special", True),
    ("Special Foreign Language Film Award", "Special Foreign Language Film Award", "special", False),
    ("Oscar", "Honorary Foreign Language Film Award", "special", False),
]

FESTIVALS = [
    ("Palme d'Or", "Palme d'Or", "film", False),
    ("Grand Prix", "Grand Prix", "film", False),
    ("Jury Prize", "Jury Prize", "film", False),
    ("Special Jury Prize", "Special Jury Prize", "film", False),  # a jury prize, not an honorary award
    ("FIPRESCI Prize", "FIPRESCI Prize", "film", False),
    ("FIPRESCI Prize", "Quinzaine des Réalisateurs", "film", False),
    ("Un Certain Regard Award", "Un Certain Regard Award", "film", False),
    ("Caméra d'Or", "Caméra d'Or", "film", False),
    ("Golden Lion", "Best Film", "film", False),
    ("Golden Berlin Bear", "Golden Berlin Bear", "film", False),
    ("Special Mention", "Special Mention", "film", False),
    ("Best Actress", "Best Actress", "person", True),
    ("Best Director", "Best Director", "person", True),
    ("Silver Lion", "Best Director", "person", True),
    ("Silver Berlin Bear", "Best Actor", "person", True),
    ("Volpi Cup", "Volpi Cup", "person", True),
    ("Best Screenplay", "Best Screenplay", "person", True),
    ("Golden Globe", "Best Performance by an Actress in a Motion Picture - Drama", "person", True),
    ("Golden Globe", "Best Motion Picture - Drama", "film", False),
    ("Golden Globe", "Cecil B. DeMille Award", "special", True),
    ("Actor", "Outstanding Performance by a Cast in a Motion Picture", "person", True),
    ("Silver Berlin Bear", "Best Cinematography", "technical", True),
    ("Golden Osella", "Outstanding Technical Contribution", "technical", True),
    ("BAFTA Film Award", "Best Make Up & Hair", "technical", True),
    ("Honorary Golden Berlin Bear", "Honorary Golden Berlin Bear", "special", True),
    ("Career Golden Lion", "Career Golden Lion", "special", True),
    ("Silver Berlin Bear", "Best Musical", "film", False),  # "musical" is a genre, not music
]


@pytest.mark.parametrize(("prize", "name", "category_type", "tracks_person"), OSCARS + FESTIVALS)
def test_classification_table(prize: str, name: str, category_type: str, tracks_person: bool) -> None:
    assert classify_category(prize, name) == (category_type, tracks_person)


def test_types_are_the_model_types() -> None:
    assert CATEGORY_TYPES == MODEL_CATEGORY_TYPES
    for prize, name, *_ in OSCARS + FESTIVALS:
        assert classify_category(prize, name)[0] in MODEL_CATEGORY_TYPES


def test_unknown_text_is_a_film_category() -> None:
    assert classify_category("Audience Award", "Audience Award") == ("film", False)
    assert classify_category(None, None) == ("film", False)
    assert classify_category("", "") == ("film", False)


def test_name_wins_over_prize() -> None:
    # Venice: prize "Golden Lion", category "Best Film"; "Silver Lion" / "Best Director"
    assert classify_category("Silver Lion", "Best Director")[0] == "person"
    assert classify_category("Silver Lion", "Silver Lion")[0] == "film"
