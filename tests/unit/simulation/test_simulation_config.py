"""A simulation's settings: bad ones are refused with a message naming them, before any work;
the encoding grows its headroom with N and says what changed; the stated quantisation bound."""

from __future__ import annotations

import pytest

from fedledger.cli.main import main
from fedledger.errors import SimulationError
from fedledger.simulation.config import (
    SimulationConfig,
    encoding_report,
    frac_bits_for,
    quantisation_bound,
)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            SimulationConfig(participants=1),
            "a simulation needs at least 2 participants (two key holders), got 1",
        ),
        (
            SimulationConfig(participants=3, threshold=4),
            "the threshold 4 is above the 3 participants: a round needs 4 decryption shares "
            "but only 3 parties hold key shares",
        ),
        (
            SimulationConfig(participants=5, threshold=1),
            "the threshold must be at least 2 (with one share a single key holder could "
            "decrypt every update), got 1",
        ),
        (
            SimulationConfig(strategy="fedprox"),
            "unknown strategy 'fedprox'; known strategies: fedavg, fedavgm",
        ),
        (SimulationConfig(rounds=0), "a simulation needs at least one round, got 0"),
        (SimulationConfig(participants=300), "a task lists at most 256 participants, got 300"),
        (SimulationConfig(frac_bits=0), "fractional bits must be in [1, 40], got 0"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_a_message_naming_them(
    config: SimulationConfig, message: str
) -> None:
    with pytest.raises(SimulationError) as refused:
        config.check()

    assert str(refused.value) == message


def test_an_unknown_model_or_partition_is_refused_as_a_simulation_error() -> None:
    with pytest.raises(SimulationError, match="unknown model 'mlp7'"):
        SimulationConfig(model="mlp7").check()
    with pytest.raises(SimulationError, match="unknown partition 'halves'"):
        SimulationConfig(partition="halves").check()


def test_the_command_refuses_a_threshold_above_the_participants_before_any_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["simulate", "--participants", "2", "--threshold", "3"])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "SimulationError: the threshold 3 is above the 2 participants" in err


def test_fifty_participants_get_five_more_fractional_bits_wider_slots_and_more_ciphertexts() -> (
    None
):
    few, many = (
        encoding_report(SimulationConfig(participants=3)),
        encoding_report(SimulationConfig(participants=50)),
    )

    assert few["slots_changed"] is False and few["precision_changed"] is False
    assert many["precision_changed"] is True and many["slots_changed"] is True
    assert (few["frac_bits"], many["frac_bits"]) == (14, 19)  # 50/3 needs ceil(log2 16.7) = 5
    assert many["slot_bits"] > few["slot_bits"] and many["slots"] < few["slots"]
    assert many["ciphertexts"] > few["ciphertexts"]
    assert many["reference_ciphertexts"] == few["ciphertexts"]


def test_a_fixed_precision_changes_only_the_slots() -> None:
    report = encoding_report(SimulationConfig(participants=50, frac_bits=14))

    assert report["precision_changed"] is False and report["slots_changed"] is True
    assert report["frac_bits"] == 14 and report["ciphertexts"] == 238


@pytest.mark.parametrize(("participants", "bits"), [(2, 14), (3, 14), (4, 15), (6, 15), (7, 16)])
def test_precision_grows_by_one_bit_per_doubling_beyond_three(participants: int, bits: int) -> None:
    assert frac_bits_for(participants) == bits


def test_the_bound_is_half_a_step_per_summand_times_the_server_learning_rate() -> None:
    plain, momentum = (
        SimulationConfig(participants=4),
        SimulationConfig(participants=4, strategy="fedavgm"),
    )

    fedavg = quantisation_bound(plain.encoding(), plain.plan(), 4)
    fedavgm = quantisation_bound(momentum.encoding(), momentum.plan(), 4)

    assert fedavg == 4 * 2.0**-16  # 15 fractional bits for 4 participants: half a step 2^-16
    assert fedavgm == pytest.approx(1.2 * fedavg)
