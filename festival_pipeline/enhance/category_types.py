"""Category classification: what a category honours.

`classify_category(prize_name, name)` returns ``(category_type, tracks_person)``.

category_type (first rule that fires wins; the category name is tried before the prize):

1. ``special``   - honorary and career awards, not competitive: Honorary Award, Special
   Award, Special Achievement Award, Irving G. Thalberg, Jean Hersholt, Gordon E. Sawyer,
   John A. Bonner, Medal/Award of Commendation, Special Foreign Language Film Award,
   Honorary Golden Bear, Career Golden Lion, lifetime achievement, Cecil B. DeMille ...
   (a festival's "Special Jury Prize" or "Special Mention" is a jury prize for a film,
   not a special award);
   Checked after 2 so that "Scientific and Technical Award (Special Award)" stays technical.
2. ``technical`` - Scientific and Technical awards (Academy Award of Merit, Scientific and
   Engineering, Technical Achievement, Class I-III);
3. ``person``    - acting (actor, actress, performance, cast, ensemble), directing
   (director, directing - but not the "Directors' Fortnight" section) and writing
   (screenplay, writing, script, scenario). Writing counts as a person category: the
   nominees are the writers, as acting nominees are the actors;
4. ``technical`` - crafts: cinematography, film editing, sound, visual/special effects,
   makeup and hairstyling, costume design, production design / art direction, music
   (score, song), dance direction, casting, assistant director, "technical" awards;
5. ``film``      - everything else: Best Picture, International / Foreign Language Film,
   Documentary, Animated, Short films, and festival prizes (Palme d'Or, Golden Lion,
   Golden Bear, Grand Prix, Jury Prize, FIPRESCI, Un Certain Regard, audience awards ...).

tracks_person = the nominees of the category are individuals whose credit is the honour:
True for person and technical categories, for special awards given to people (honorary,
Thalberg, Hersholt, Sawyer, Bonner, commendations, lifetime/career awards) and for the
Sci-Tech awards; False for film categories (Best Picture names producers, but the
picture is honoured) and for special awards to films (Special Foreign Language Film Award).
"""

from __future__ import annotations

import re

from .normalize import fold

__all__ = ["CATEGORY_TYPES", "classify_category"]

CATEGORY_TYPES: tuple[str, ...] = ("film", "person", "technical", "special")

_SPECIAL = re.compile(
    r"\b(honorary|honour|honor|thalberg|hersholt|sawyer|bonner|commendation|lifetime|career|"
    r"tribute|demille|carol burnett|special award|special achievement award|"
    r"special foreign language film award|special oscar|special prize on occasion|"
    r"golden lion for (lifetime|career)|honorary golden)\b"
)
# honours given to films although the award is special
_SPECIAL_FOR_FILMS = re.compile(r"\b(foreign language film|picture|film award for)\b")
_SCITECH = re.compile(
    r"\b(scientific|academy award of merit|technical achievement award|class i{1,3}|"
    r"scientific and engineering)\b"
)
_ACTING = re.compile(
    r"\b(actor|actors|actress|actresses|acting|performance|performances|performer|cast|ensemble|"
    r"interpretation|young actor|newcomer|volpi cup|coppa volpi|mastroianni|mastrioanno)\b"
)
_DIRECTING = re.compile(r"\b(director|directors|directing|direction|regie|realisation|mise en scene)\b")
_NOT_DIRECTING = re.compile(
    r"\b(directors fortnight|quinzaine des realisateurs|art direction|dance direction|assistant director|"
    r"directors guild|first film|debut)\b"
)
_WRITING = re.compile(r"\b(screenplay|screenplays|screenwriting|screenwriter|writing|writer|writers|script|"
                      r"scenario)\b")
_CRAFT = re.compile(
    r"\b(cinematography|cinematographer|photography|editing|editor|sound|effects|makeup|make up|hair|"
    r"hairstyling|costume|costumes|art direction|production design|production designer|set decoration|"
    r"interior decoration|music|score|scoring|song|songs|soundtrack|composer|dance direction|casting|"
    r"assistant director|technical|prop maker|artisan|artisian|craft)\b"
)


def _classify_text(text: str) -> str | None:
    if _SCITECH.search(text):
        return "technical"
    if _SPECIAL.search(text):
        return "special"
    if _ACTING.search(text):
        return "person"
    if _DIRECTING.search(text) and not _NOT_DIRECTING.search(text):
        return "person"
    if _WRITING.search(text):
        return "person"
    if _CRAFT.search(text):
        return "technical"
    return None


def classify_category(prize_name: str | None, name: str | None) -> tuple[str, bool]:
    """(category_type, tracks_person) of a category under a prize; see the module doc.

    >>> classify_category("Oscar", "Actor in a Leading Role")
    ('person', True)
    >>> classify_category("Palme d'Or", "Palme d'Or")
    ('film', False)
    """
    name_text, prize_text = fold(name), fold(prize_name)
    category_type = None
    if _SPECIAL.search(prize_text) and not _SCITECH.search(prize_text) and not _SPECIAL.search(name_text):
        # the prize is an honorary award whatever the category says
        # ("Special Achievement Award" / "Visual Effects")
        category_type = "special"
    if category_type is None:
        category_type = _classify_text(name_text) or _classify_text(prize_text) or "film"
    return category_type, _tracks_person(category_type, f"{prize_text} {name_text}")


def _tracks_person(category_type: str, text: str) -> bool:
    if category_type in ("person", "technical"):
        return True
    if category_type == "special":
        return not _SPECIAL_FOR_FILMS.search(text)
    return False
