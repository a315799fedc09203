"""The operators' commands' pure parts: where their settings come from, the replay window, tokens on stdin,
and how bad input is refused before anything is touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from aiokafka import TopicPartition

from console.credentials import token_from
from console.errors import OperatorError
from console.main import main
from console.offsets import Move, rewind_moves
from console.source import ContainerSource, LocalSource, choose
from console.window import Window, moment
from devtools.local.stack import AGENCY_FACING, LocalStack


def no_local_stack() -> LocalStack:
    raise AssertionError("inside a container the local stack must not be used")


# --- where the settings come from ------------------------------------------------------------------------


def test_inside_a_services_container_the_commands_use_its_own_settings() -> None:
    source = choose({"BACKBONE_SERVICE": "referral", "BACKBONE_DATABASE__DSN": "…"}, local=no_local_stack)
    assert source == ContainerSource("referral")
    assert source.agency_facing() == ("referral",)  # a token is registered in this service only


def test_elsewhere_the_commands_use_the_local_stack() -> None:
    source = choose({"HOME": "/home/operator"}, local=LocalStack.default)
    assert isinstance(source, LocalSource)
    assert source.agency_facing() == AGENCY_FACING
    assert isinstance(choose({"BACKBONE_SERVICE": "  "}, local=LocalStack.default), LocalSource)


def test_an_unknown_service_in_the_environment_is_named() -> None:
    with pytest.raises(OperatorError, match="BACKBONE_SERVICE='referal' is not a service") as refused:
        choose({"BACKBONE_SERVICE": "referal"}, local=no_local_stack)
    assert "intake, referral, meetings, notify, audit" in str(refused.value)


def test_a_container_refuses_to_act_on_another_service_and_says_where_to_run_it() -> None:
    source = ContainerSource("referral")
    for act in (lambda: source.settings_for("intake"), source.audit_settings, lambda: source.app("notify")):
        with pytest.raises(OperatorError) as refused:
            act()
        assert refused.value.exit_code == 2
        assert "this is referral's container" in str(refused.value)
        assert "exec deploy/" in str(refused.value)


# --- the replay window -------------------------------------------------------------------------------------


def test_times_keep_their_offset() -> None:
    assert moment("2026-11-30T09:00:00+09:00") == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert moment("2026-11-30T00:00:00Z") == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert moment(" 2026-11-30T09:00:00.250+09:00 ").utcoffset() == timedelta(hours=9)


def test_a_naive_time_is_refused_with_an_example_that_would_work() -> None:
    with pytest.raises(ValueError, match="no UTC offset") as refused:
        moment("2026-11-30T09:00:00")
    example = str(refused.value).split("e.g. ")[1].split(" ")[0]
    assert moment(example) == datetime(2026, 11, 30, 9, tzinfo=timezone(timedelta(hours=9)))
    with pytest.raises(ValueError, match="no UTC offset"):
        moment("2026-11-30")
    with pytest.raises(ValueError, match="not an ISO 8601 time; for example 2026-11-30T09:00:00"):
        moment("yesterday")


def test_a_window_ends_after_it_begins() -> None:
    since = moment("2026-11-30T09:00:00+09:00")
    assert Window(since).until is None
    with pytest.raises(ValueError, match="is not after --since"):
        Window(since, moment("2026-11-30T00:00:00Z"))  # the same moment, in UTC


# --- tokens on stdin ---------------------------------------------------------------------------------------


def test_a_token_on_stdin_must_be_the_agencys() -> None:
    assert token_from("chiku-fukushi-katase", "chiku-fukushi-katase.Xq3-_abc\n") == "chiku-fukushi-katase.Xq3-_abc"
    for wrong in ("", "\n", "chiku-fukushi-katase.", "csw-endo.Xq3", "chiku-fukushi-katase.Xq3 extra", "Xq3"):
        with pytest.raises(OperatorError) as refused:
            token_from("chiku-fukushi-katase", wrong)
        assert refused.value.exit_code == 2
        assert "chiku-fukushi-katase.<secret>" in str(refused.value)
    with pytest.raises(OperatorError) as refused:
        token_from("chiku-fukushi-katase", "csw-endo.Sup3rSecret")
    assert "Sup3rSecret" not in str(refused.value)  # the input is never echoed


# --- bad input is refused before anything is touched --------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        ["dlq", "list", "referal"],
        ["dlq", "redrive", "nobody", "--dry-run"],
        ["outbox", "replay", "notifications", "--since", "2026-11-30T09:00:00+09:00"],
    ],
)
def test_an_unknown_name_exits_2_listing_the_valid_ones(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(words)
    assert exited.value.code == 2
    assert "'intake', 'referral', 'meetings', 'notify', 'audit'" in capsys.readouterr().err


def test_a_naive_since_exits_2_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["outbox", "replay", "referral", "--since", "2026-11-30T09:00:00"])
    assert exited.value.code == 2
    assert "+09:00" in capsys.readouterr().err


def test_a_window_that_ends_before_it_begins_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["outbox", "replay", "referral", "--since", "2026-11-30T09:00:00+09:00", "--until", "2026-11-29T09:00:00+09:00"]
    )
    assert code == 2
    assert "is not after --since" in capsys.readouterr().err


# --- rewinding a consumer group --------------------------------------------------------------------------------


def test_a_rewind_goes_back_to_the_first_record_at_the_moment_and_never_forward() -> None:
    p0, p1, p2, p3 = (TopicPartition("referral.events.v1", n) for n in range(4))
    moves = rewind_moves(
        committed={p0: 120, p1: 40, p2: 75, p3: 10},
        first_at={p0: 100, p1: 55, p2: None, p3: 10},  # p2: nothing written since the moment
        ends={p0: 130, p1: 60, p2: 75, p3: 12},
    )
    assert moves == [Move(p0, 120, 100)]  # p1 is not past the moment yet, p2 is at its end, p3 already there
    assert moves[0].again == 20
    assert rewind_moves({}, {p0: 0}, {p0: 5}) == []  # a group that never committed starts at the log start anyway
