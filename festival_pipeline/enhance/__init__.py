"""Turning parsed pages into CeremonyRecords.

* `oscars`    - oscars.org ceremony page + IMDb edition page -> one Academy Awards ceremony
  (category pairing, nomination matching, IMDb ids, IMDb-only awards);
* `imdb_only` - an IMDb edition page of a festival known from IMDb only -> one ceremony;
* `normalize` - title / name / category-name normalisation (rapidfuzz scores);
* `classify`  - category type (film / person / technical / special) and tracks_person.
"""

from .category_types import classify_category
from .imdb_only import imdb_edition_to_ceremony
from .oscars import enhance_oscars_ceremony, imdb_edition_for_ceremony

__all__ = [
    "classify_category",
    "enhance_oscars_ceremony",
    "imdb_edition_for_ceremony",
    "imdb_edition_to_ceremony",
]
