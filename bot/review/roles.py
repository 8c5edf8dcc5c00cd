"""Who did what to whom: a one-sided act (summon, expel, accuse, protest … in four languages)
whose parties stand on the other sides of it in two headlines ("Iran summons Azerbaijan's envoy"
/ "Azerbaijan summons Iran's envoy"). Pure; used by `bot.review.stories` when the signatures
cannot tell the parties apart (neither names a person or a title).
"""

from __future__ import annotations

# Prefixes (folded) of one-sided acts: the actor and the target cannot be swapped.
_ONE_SIDED = (
    "summon", "expel", "accus", "condem", "protest", "recall", "sanction", "deport",
    "вызва", "вызов", "высла", "высыл", "обвин", "осуд", "протест", "отозва",
    "cagir", "ittiham", "etiraz", "qinad", "sanksiya",
    "احضار", "اخراج", "اعتراض", "محکوم", "متهم", "فراخوان",
)  # fmt: skip
_PARTY = 4  # letters of a title word compared as a party of an act ("Iran", "Iranian")


def roles_swapped(
    a: tuple[str, ...], act_a: int | None, b: tuple[str, ...], act_b: int | None
) -> bool:
    """True when both titles tell of a one-sided act whose sides are swapped."""
    if act_a is None or act_b is None:
        return False
    sides_a = _sides(a, act_a)
    sides_b = _sides(b, act_b)
    return any(sides_b.get(party, side) != side for party, side in sides_a.items())


def title_act(words: tuple[str, ...]) -> int | None:
    for n, word in enumerate(words):
        if word.startswith(_ONE_SIDED):
            return n
    return None


def _sides(words: tuple[str, ...], act: int) -> dict[str, bool]:
    """Party → stands before the act; a word on both sides is no evidence and is left out."""
    sides: dict[str, bool] = {}
    both: set[str] = set()
    for n, word in enumerate(words):
        if n == act or word.startswith(_ONE_SIDED):
            continue
        party, before = word[:_PARTY], n < act
        if sides.get(party, before) != before:
            both.add(party)
        sides[party] = before
    return {p: s for p, s in sides.items() if p not in both}
