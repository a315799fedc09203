"""`backbone bench --against`: both sides' latencies at one rate, a setting measured as a change, the table."""

from __future__ import annotations

import argparse

import pytest

from devtools.bench.ab import FIGURES, HOP_PREFIX, Side, common_rate, markdown
from devtools.bench.hops import HOPS
from devtools.commands import _setting


def test_latencies_run_at_half_of_the_lower_p1_unless_a_rate_is_fixed() -> None:
    assert common_rate({"9f3b003": 130.0, "today": 104.0}, None) == 52.0
    assert common_rate({"9f3b003": 90.0, "today": 140.0}, None) == 45.0
    assert common_rate({"9f3b003": 130.0, "today": 104.0}, 60.0) == 60.0


def test_a_setting_of_the_later_side_is_a_backbone_name_and_a_value() -> None:
    assert _setting("BACKBONE_KAFKA__LINGER_MS=0") == ("BACKBONE_KAFKA__LINGER_MS", "0")
    assert _setting("BACKBONE_NOTIFY__MAIL_FROM=a=b@example.org") == ("BACKBONE_NOTIFY__MAIL_FROM", "a=b@example.org")
    for wrong in ("BACKBONE_KAFKA__LINGER_MS", "PATH=/tmp", "=0"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE with a BACKBONE_ name"):
            _setting(wrong)


def _side(name: str, scale: float) -> Side:
    side = Side(name, None)
    for number in range(3):
        for figure, _unit in FIGURES:
            side.add(figure, scale * (10 + number))
        for hop in HOPS:
            side.add(f"{HOP_PREFIX}{hop} p50", scale * (1 + number))
    return side


def test_the_table_gives_each_figures_medians_ratio_and_rounds_and_says_at_what_rate() -> None:
    table = markdown(
        _side("5b89f54", 1.0), _side("today BACKBONE_KAFKA__LINGER_MS=0", 0.5), rounds=3, consultations=600
    )
    assert "L1 and L3 at one rate for both sides, half of the lower of the round's two P1" in table
    assert "| L1 p99 | ms | 11.00 | 5.50 | 0.50× | 10, 11, 12 | 5, 5.5, 6 |" in table
    assert f"| {HOP_PREFIX}{HOPS[-1]} p50 | ms | 2.00 | 1.00 | 0.50× |" in table
    fixed = markdown(_side("a", 1.0), _side("b", 1.0), rounds=3, consultations=600, rate=60.0)
    assert "a fixed 60 consultations/s" in fixed
