"""Operator edits applied to raw config data: strict for new edits, lenient when replayed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import ConfigError
from bot.operator.edits import (
    AddMask,
    AddSource,
    AddTerm,
    AddVeto,
    ConfigData,
    Edit,
    PauseSource,
    RemoveMask,
    RemoveSource,
    RemoveTerm,
    RemoveVeto,
    ResumeSource,
    SetInterval,
    apply_edit,
    describe,
    from_json,
    snapshot,
    to_json,
    url_key,
)


def data() -> ConfigData:
    return ConfigData(
        sources={
            "defaults": {"interval": "10m"},
            "sources": [
                {"id": "a", "name": "A", "url": "https://a.example/feed"},
                {"id": "b", "name": "B", "url": "https://b.example/rss", "enabled": False},
            ],
        },
        topics={
            "topics": [
                {
                    "id": "t",
                    "name": "T",
                    "require": ["x", "y"],
                    "groups": {"x": ["Baku", "Azerbaijan*"], "y": ["Iran*"]},
                    "masks": ["East Azerbaijan*"],
                }
            ]
        },
    )


def source(d: ConfigData, sid: str) -> dict[str, Any] | None:
    return next((s for s in d.sources["sources"] if s["id"] == sid), None)


def topic(d: ConfigData) -> dict[str, Any]:
    return d.topics["topics"][0]


@pytest.mark.parametrize(
    ("edit", "check"),
    [
        (AddSource("c", "https://c.example/", "C"), lambda d: source(d, "c")["name"] == "C"),
        (AddSource("c", "https://c.example/"), lambda d: source(d, "c")["name"] == "c"),
        (RemoveSource("a"), lambda d: source(d, "a") is None),
        (PauseSource("a"), lambda d: source(d, "a")["enabled"] is False),
        (ResumeSource("b"), lambda d: source(d, "b")["enabled"] is True),
        (SetInterval("a", 90), lambda d: source(d, "a")["interval"] == "1m30s"),
        (AddTerm("t", "x", " Ganja "), lambda d: topic(d)["groups"]["x"][-1] == "Ganja"),
        (RemoveTerm("t", "x", "baku"), lambda d: topic(d)["groups"]["x"] == ["Azerbaijan*"]),
        (AddMask("t", "Azerbaijan Street"), lambda d: "Azerbaijan Street" in topic(d)["masks"]),
        (RemoveMask("t", "East Azerbaijan*"), lambda d: topic(d)["masks"] == []),
        (AddVeto("t", "Eurovision"), lambda d: topic(d)["vetoes"] == ["Eurovision"]),
    ],
)
def test_each_edit_changes_only_a_copy_of_the_data(edit: Edit, check: Any):
    original = data()
    changed = apply_edit(original, edit)
    assert check(changed)
    assert original == data()  # the input is untouched


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (AddSource("a", "https://new.example/"), "duplicate id: source 'a' already exists"),
        (AddSource("c", "HTTPS://A.example/feed/"), "duplicate URL: source 'a' already polls"),
        (RemoveSource("zz"), "there is no source 'zz'"),
        (PauseSource("b"), "source 'b' is already paused"),
        (ResumeSource("a"), "source 'a' is already running"),
        (SetInterval("a", 600), "already polled every 10m"),
        (SetInterval("zz", 600), "there is no source 'zz'"),
        (AddTerm("nope", "x", "Ganja"), "there is no topic 'nope'; topics: t"),
        (AddTerm("t", "z", "Ganja"), "topic 't' has no group 'z'; its groups: x, y"),
        (AddTerm("t", "x", "BAKU"), "'BAKU' is already in t/x (as 'Baku')"),
        (AddTerm("t", "x", "  "), "the term is empty"),
        (RemoveTerm("t", "x", "Ganja"), "'Ganja' is not in t/x"),
        (RemoveVeto("t", "Eurovision"), "'Eurovision' is not in the vetoes of t"),
    ],
)
def test_a_strict_edit_that_cannot_apply_or_changes_nothing_is_refused_with_why(
    edit: Edit, reason: str
):
    with pytest.raises(ConfigError) as caught:
        apply_edit(data(), edit)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "edit",
    [
        AddTerm("t", "x", "baku"),
        RemoveTerm("t", "x", "Ganja"),
        RemoveTerm("gone", "x", "Ganja"),
        RemoveSource("gone"),
        PauseSource("b"),
        SetInterval("a", 600),
        AddSource("a", "https://a.example/feed/"),
    ],
)
def test_a_replayed_edit_whose_goal_the_files_already_meet_is_a_no_op(edit: Edit):
    assert apply_edit(data(), edit, strict=False) == data()


@pytest.mark.parametrize(
    "edit",
    [
        AddTerm("t", "gone", "Ganja"),
        PauseSource("gone"),
        AddSource("a", "https://other.example/"),
        AddSource("c", "https://a.example/feed"),
    ],
)
def test_a_replayed_edit_the_files_no_longer_allow_raises(edit: Edit):
    with pytest.raises(ConfigError):
        apply_edit(data(), edit, strict=False)


@pytest.mark.parametrize(
    "edit",
    [
        AddSource("c", "https://c.example/", None),
        SetInterval("a", 300),
        AddTerm("t", "x", "Nakhchivan city"),
        RemoveVeto("t", "x"),
    ],
)
def test_edits_round_trip_through_json(edit: Edit):
    assert from_json(to_json(edit)) == edit


def test_an_unknown_stored_edit_is_a_value_error():
    with pytest.raises(ValueError, match="unknown edit kind"):
        from_json({"kind": "format-disk"})


def test_describe_names_the_action_the_value_and_the_target():
    assert describe(AddTerm("azerbaijan-iran", "azerbaijan", "Baku")) == (
        "add term 'Baku' to azerbaijan-iran/azerbaijan"
    )
    assert describe(SetInterval("a", 5400)) == "set the interval of source 'a' to 1h30m"


def test_a_source_snapshot_shows_its_defaults_and_a_term_snapshot_the_whole_group():
    d = data()
    assert snapshot(d, PauseSource("a")) == {
        "enabled": True,
        "interval": "10m",
        "id": "a",
        "name": "A",
        "url": "https://a.example/feed",
    }
    assert snapshot(d, AddTerm("t", "x", "Ganja")) == ["Baku", "Azerbaijan*"]
    assert snapshot(d, AddSource("c", "https://c.example/")) is None


def test_url_key_ignores_case_of_scheme_and_host_and_a_trailing_slash_only():
    assert url_key("HTTPS://Example.COM/Feed/") == url_key("https://example.com/Feed")
    assert url_key("https://example.com/Feed") != url_key("https://example.com/feed")
