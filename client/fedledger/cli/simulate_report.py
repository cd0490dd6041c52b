"""What `fedledger simulate` shows: the encoding, a line per round, the comparison, JSON, plot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fedledger.cli import demo_report
from fedledger.cli.output import say, table
from fedledger.simulation.config import SimulationConfig


def print_encoding(config: SimulationConfig, encoding: dict[str, Any]) -> None:
    """The packing the participant count needs, and what changed against the demo's."""
    say(
        f"encoding: {encoding['frac_bits']} fractional bits, clip {encoding['clip']:g}, "
        f"{encoding['slot_bits']}-bit slots for {config.participants} summands: "
        f"{encoding['slots']} values per ciphertext, {encoding['ciphertexts']} ciphertexts "
        "per update"
    )
    if encoding["precision_changed"]:
        why = (
            "set by --frac-bits"
            if config.frac_bits is not None
            else f"so that {config.participants} rounded shares are off by no more than the "
            "demo's 3"
        )
        say(
            f"  precision changed: {encoding['frac_bits']} fractional bits instead of the demo's "
            f"{encoding['reference_frac_bits']} ({why})"
        )
    if encoding["slots_changed"]:
        say(
            f"  slot count changed: the demo's {encoding['reference_participants']} participants "
            f"need {encoding['reference_slot_bits']}-bit slots, {encoding['reference_slots']} "
            f"per ciphertext, {encoding['reference_ciphertexts']} ciphertexts; the headroom for "
            f"{config.participants} summands (and the precision) costs "
            f"{encoding['ciphertexts'] - encoding['reference_ciphertexts']} more ciphertexts"
        )
    else:
        say("  precision and slot count as in the demo's encoding")


def print_round(row: dict[str, Any], encrypted: bool) -> None:
    """The demo's round line; for an encrypted round also the chaincode's time and the sizes."""
    demo_report.print_round(row)
    phases = row.get("phases")
    if encrypted and phases:
        cc, cpu = phases["chaincode"], phases["chaincode"]["cpu"]
        say(
            f"    chaincode {cc['total']:.2f}s wall, {cpu['total']:.2f}s CPU (validation "
            f"{cpu['validation']:.2f}, aggregation {cpu['aggregation']:.2f}, share verification "
            f"{cpu['share_verification']:.2f}) | update {phases['update_bytes'] / 1e3:.0f} kB "
            f"(base64), aggregate {phases['aggregate_bytes'] / 1e3:.0f} kB"
        )


def finish(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Print the comparison and the cost of encryption; write JSON and plot if asked."""
    comparison = report.get("comparison")
    if comparison is not None:
        _print_comparison(comparison)
    seconds = report["seconds"]
    if "encrypted" in seconds and "plaintext" in seconds:
        rounds = max(1, len(report["rounds"]))
        extra = (seconds["encrypted"] - seconds["plaintext"]) / rounds
        say(
            f"encryption cost: {seconds['encrypted']:.1f}s encrypted vs "
            f"{seconds['plaintext']:.1f}s plaintext ({extra:+.1f}s per round; key "
            f"{seconds['key']:.1f}s once)"
        )
    load = ", ".join(f"{x:.1f}" for x in report["load_average"])
    say(
        f"total {report['total_seconds']:.0f}s, peak memory {report['peak_rss_mb']:.0f} MB, "
        f"load average {load}"
    )
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(report, indent=2))
        say(f"wrote {args.json_file}")
    if args.plot:
        plot(report, args.plot)
        say(f"wrote {args.plot}")


def _print_comparison(comparison: dict[str, Any]) -> None:
    rows = [
        [
            r["round"],
            f"{r['encrypted_accuracy'] * 100:.2f}%",
            f"{r['plaintext_accuracy'] * 100:.2f}%",
            f"{r['accuracy_difference_points']:+.2f}",
            "-" if r["aggregation_error"] is None else f"{r['aggregation_error']:.2e}",
            f"{r['bound']:.2e}",
            f"{r['trajectory_difference']:.2e}",
        ]
        for r in comparison["rounds"]
    ]
    table(
        ["round", "encrypted", "plaintext", "Δ points", "aggregation error", "bound", "drift"],
        rows,
    )
    if comparison["rounds_with_clipping"]:
        say(
            f"{comparison['rounds_with_clipping']} round(s) clipped update values beyond the "
            "clip bound: the quantisation bound does not cover clipping, so they are not checked"
        )
    verdict = "within" if comparison["accuracy_within_target"] else "NOT within"
    bound = "every" if comparison["all_within_bound"] else "NOT every"
    say(
        f"final accuracies differ by {comparison['final_accuracy_difference_points']:.2f} points "
        f"({verdict} the {comparison['accuracy_target_points']} target); {bound} checked round "
        f"({comparison['rounds_checked_against_bound']}) within the quantisation bound"
    )


def plot(report: dict[str, Any], path: str) -> None:
    """Test accuracy per round, encrypted and (when run) plaintext (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    series = [("rounds", report["mode"]), ("plaintext_rounds", "plaintext")]
    for key, label in series:
        rows = report.get(key)
        if rows:
            ax.plot(
                [r["round"] for r in rows],
                [r["accuracy"] * 100 for r in rows],
                marker="o",
                label=label,
            )
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"fedledger simulate: {report['model']}, {report['participants']} participants")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
