"""What the demo shows: one line per round, the final comparison, the JSON file and the plot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fedledger.cli.output import progress, say


def round_row(
    number: int, decided: dict[str, Any], lines: list[dict[str, Any]], wall: float
) -> dict[str, Any]:
    """Summarise one round from the ledger's record and the participants' own measurements."""

    def slowest(field: str) -> float:
        return round(max(line[field] for line in lines), 2)

    aggregate = decided.get("aggregate") or {}
    result = decided.get("result") or {}
    ledger_bytes = sum(line["update_bytes"] + line["share_bytes"] for line in lines)
    ledger_bytes += aggregate.get("size", 0)
    return {
        "round": number,
        "status": decided["status"],
        "accuracy": round(lines[0]["test_accuracy"], 4),
        "median_validation_accuracy": (
            result["median_bp"] / 10000 if "median_bp" in result else None
        ),
        "seconds": {
            "wall": round(wall, 2),
            "training": slowest("train_s"),
            "encryption": round(
                max(x["encrypt_offline_s"] + x["encrypt_online_s"] for x in lines), 2
            ),
            "ledger": slowest("ledger_s"),
            "decryption": slowest("decrypt_s"),
        },
        "ledger_bytes": ledger_bytes,
        "clipped_values": sum(line["clipped_values"] for line in lines),
        "weights_hash": result.get("weights_hash"),
    }


def print_round(row: dict[str, Any]) -> None:
    s = row["seconds"]
    say(
        f"round {row['round']}: {row['status']:<8} test accuracy {row['accuracy'] * 100:5.2f}%  "
        f"| {s['wall']:5.1f}s = train {s['training']:.1f} + encrypt {s['encryption']:.1f} "
        f"+ ledger {s['ledger']:.1f} + decrypt {s['decryption']:.1f} (slowest participant) "
        f"| {row['ledger_bytes'] / 1e6:.2f} MB on the ledger"
    )


def finish(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Compute the centralised baseline, print the summary, write JSON and plot if asked."""
    from fedledger.learning.baseline import centralised_baseline
    from fedledger.learning.models import initial_weights
    from fedledger.learning.runtime import configure_tensorflow
    from fedledger.roles.dataplan import DataPlan, pooled_training_data

    progress("training the centralised baseline (same data, same epoch budget)")
    configure_tensorflow()
    plan = DataPlan(args.participants, args.partition, args.data, args.seed)
    train_sets, test = pooled_training_data(plan)
    baseline = centralised_baseline(
        args.model,
        train_sets,
        test,
        rounds=args.rounds,
        initial=initial_weights(args.model, seed=args.seed),
        seed=args.seed,
    )
    report["centralized_accuracy"] = round(baseline.accuracy, 4)
    final = report["rounds"][-1]["accuracy"]
    gap = (baseline.accuracy - final) * 100
    relation = f"{gap:.2f} points behind" if gap >= 0 else f"{-gap:.2f} points ahead"
    say(
        f"final federated accuracy {final * 100:.2f}% vs centralised "
        f"{baseline.accuracy * 100:.2f}% ({relation}) in {report['total_seconds']:.0f}s;"
        f" task {report['task_id']}"
    )
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(report, indent=2))
        say(f"wrote {args.json_file}")
    if args.plot:
        plot(report, args.plot)
        say(f"wrote {args.plot}")


def plot(report: dict[str, Any], path: str) -> None:
    """Accuracy per round with the centralised baseline as a line (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [r["round"] for r in report["rounds"]]
    accuracy = [r["accuracy"] * 100 for r in report["rounds"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(rounds, accuracy, marker="o", label="federated (encrypted aggregation)")
    ax.axhline(
        report["centralized_accuracy"] * 100,
        color="grey",
        linestyle="--",
        label="centralised baseline",
    )
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xticks(rounds)
    ax.set_title(f"fedledger: {report['model']}, {report['participants']} participants")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
