"""``skassess convert``: the official NAS-Bench-101 TFRecord file to a fast ``.npz``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from skassess.cli._arguments import Formatter, paragraph
from skassess.cli._common import CommandError, Console, OutputFolder


def add_parser(commands: Any) -> None:
    """Register ``convert`` and its options."""
    convert = commands.add_parser(
        "convert",
        help="convert the official NAS-Bench-101 TFRecord file to a fast .npz",
        description=paragraph(
            "Parse an official NAS-Bench-101 file (nasbench_only108.tfrecord or "
            "nasbench_full.tfrecord; no TensorFlow needed) into an .npz that "
            "skassess.datasets.load_nasbench101 reads in seconds."
        ),
        epilog="example:\n  skassess convert ~/data/nasbench_only108.tfrecord -o "
        "~/skassess_data/nasbench101.npz",
        formatter_class=Formatter,
    )
    convert.add_argument("tfrecord", type=Path, metavar="TFRECORD", help="the official file")
    convert.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="NPZ",
        help="destination, its folder created if needed (default: TFRECORD with the suffix .npz)",
    )
    convert.add_argument("--quiet", action="store_true", help="no chatter")
    convert.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    convert.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check both paths, then parse and write."""
    console = Console(args.quiet)
    if not args.tfrecord.is_file():
        what = "is a folder" if args.tfrecord.is_dir() else "does not exist"
        raise CommandError(f"{args.tfrecord} {what}; give the official NAS-Bench-101 file")
    output = args.output if args.output is not None else args.tfrecord.with_suffix(".npz")
    if output.resolve() == args.tfrecord.resolve():
        raise CommandError(f"--output {output} would overwrite the input file")
    destination = OutputFolder(output.parent, "--output").file(output.name)
    from skassess.datasets import convert_nasbench101

    console.info(f"parsing {args.tfrecord} ...")
    start = time.perf_counter()
    written = convert_nasbench101(args.tfrecord, destination)
    console.info(f"done in {time.perf_counter() - start:.1f} s")
    console.result(f"wrote {written}")
    return 0
