"""The per-language word lists of a topic (issue 18), validated: `kind_vetoes` and `salience`.

    [topics.kind_vetoes.weather]      # a kind: a slug; its terms in any of the four languages
    en = ["earthquake*", "dust storm*"]
    ru = ["землетрясени*"]

    [topics.salience.political]       # political, officials, third_parties, home_places,
    en = ["protest*", "ban"]          # background, background_after, aside, talk:
                                      # see `bot.models.Salience`

Each list is keyed by language (`en`, `ru`, `az`, `fa`) and holds terms written like group terms
(`*` stems, phrases). The matcher uses every language's terms on every item: folding is
language-independent, and a Russian item may quote an English name. The keys by language are
for the people who keep the lists, and for the checks: an unknown language or kind, a term that
cannot match, or a term twice in one list is an error naming its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.models import KindVeto, Salience
from bot.topics.matcher import parse_term

Language = Literal["en", "ru", "az", "fa"]
_ORDER: tuple[Language, ...] = ("en", "ru", "az", "fa")
_SLUG = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


def _check_term(term: str) -> str:
    parse_term(term)  # its ValueError becomes a pydantic error at this element
    return term.strip()


Term = Annotated[str, AfterValidator(_check_term)]
ByLanguage = dict[Language, list[Term]]
KindVetoes = dict[Annotated[str, Field(pattern=_SLUG)], ByLanguage]


class SalienceModel(BaseModel):
    """`[topics.salience]` as written in topics.toml: one list per language for each role."""

    model_config = ConfigDict(extra="forbid", strict=True)

    political: ByLanguage = {}
    officials: ByLanguage = {}
    third_parties: ByLanguage = {}
    home_places: ByLanguage = {}
    background: ByLanguage = {}
    background_after: ByLanguage = {}
    aside: ByLanguage = {}
    talk: ByLanguage = {}

    def to_salience(self) -> Salience:
        """The frozen record the matcher compiles."""
        return Salience(
            political=_flat(self.political),
            officials=_flat(self.officials),
            third_parties=_flat(self.third_parties),
            home_places=_flat(self.home_places),
            background=_flat(self.background),
            background_after=_flat(self.background_after),
            aside=_flat(self.aside),
            talk=_flat(self.talk),
        )


def _flat(by_language: Mapping[Language, list[str]]) -> tuple[str, ...]:
    return tuple(t for lang in _ORDER for t in by_language.get(lang, ()))


def kind_vetoes(raw: KindVetoes) -> tuple[KindVeto, ...]:
    """The validated `kind_vetoes` table as records, in the file's order."""
    return tuple(KindVeto(kind, _flat(by_language)) for kind, by_language in raw.items())


def wordlist_checks(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Checks the models cannot make: a term twice in one list (in any of its languages)."""
    problems: list[tuple[str, str]] = []
    for key in ("kind_vetoes", "salience"):
        table = raw.get(key)
        if not isinstance(table, Mapping):
            continue
        for name, by_language in table.items():
            if not isinstance(by_language, Mapping):
                continue
            seen: dict[tuple[tuple[str, bool], ...], str] = {}
            for lang, terms in by_language.items():
                for term in terms if isinstance(terms, list) else ():
                    if not isinstance(term, str) or not term.strip():
                        continue
                    try:
                        folded = parse_term(term)  # words and stems: "Iran*" is not "Iran"
                    except ValueError:
                        continue  # the model reports it
                    if folded in seen:
                        also = f" (also in {seen[folded]})" if seen[folded] != lang else ""
                        problems.append((f"{key}.{name}.{lang}", f"duplicate term {term!r}{also}"))
                    seen.setdefault(folded, str(lang))
    return problems
