"""What the demo shows: one line per round, the final comparison, the JSON file and the plot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fedledger.cli.output import progress, say


def print_round(row: dict[str, Any]) -> None:
    """One line per round: decision, test accuracy, where the time went, who decrypted, bytes."""
    s = row["seconds"]
    ahead = f" (ahead {s['training']:.1f})" if row.get("trained_ahead") else ""
    accuracy = "" if row["accuracy"] is None else f"test accuracy {row['accuracy'] * 100:5.2f}%"
    say(
        f"round {row['round']}: {row['status']:<8} {accuracy}  | {s['wall']:5.1f}s = train "
        f"{s['training_within']:.1f}{ahead}"
        f" + overhead {s['overhead']:.1f} (encrypt {s['encryption']:.1f}, "
        f"decrypt {s['decryption']:.1f}, combine {s['combination']:.1f}, ledger "
        f"{s['ledger']:.1f}) | {row['decryptors']} decryptors | "
        f"{row['ledger_bytes'] / 1e6:.2f} MB on the ledger"
    )
    if row.get("reason"):
        say(f"  failed: {row['reason']}")


def finish(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Compute the centralised baseline, print the summary, write JSON and plot if asked."""
    from fedledger.learning.baseline import centralised_baseline
    from fedledger.learning.models import initial_weights
    from fedledger.learning.runtime import configure_tensorflow
    from fedledger.roles.training.dataplan import DataPlan, pooled_training_data

    if args.no_baseline:
        _write(args, report)
        return
    progress("training the centralised baseline (same data, same epoch budget)")
    configure_tensorflow()
    plan = DataPlan(args.participants, args.partition, args.mnist, args.seed)
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
    _write(args, report)
    if args.plot:
        plot(report, args.plot)
        say(f"wrote {args.plot}")


def _write(args: argparse.Namespace, report: dict[str, Any]) -> None:
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(report, indent=2))
        say(f"wrote {args.json_file}")


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
