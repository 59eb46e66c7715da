"""Datatrove's four MinHash stages, one worker each; run with the datatrove venv's python (never thresher's).

usage: python _datatrove_minhash.py INPUT_DIR WORK_DIR NGRAM BANDS ROWS
Prints one JSON line with the seconds of each stage.
"""

import json
import sys
import time

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter


def main() -> None:
    src, work, ngram, bands, rows = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    config = MinhashConfig(n_grams=ngram, num_buckets=bands, hashes_per_bucket=rows)
    times = {}
    stages = [
        ("signatures", [JsonlReader(src), MinhashDedupSignature(output_folder=f"{work}/sigs", config=config)], 1),
        ("buckets", [MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets",
                                         config=config)], bands),
        ("cluster", [MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids",
                                         config=config)], 1),
        ("filter", [JsonlReader(src),
                    MinhashDedupFilter(input_folder=f"{work}/remove_ids",
                                       exclusion_writer=JsonlWriter(f"{work}/removed", compression=None)),
                    JsonlWriter(f"{work}/kept", compression="zstd")], 1),
    ]
    for name, pipeline, tasks in stages:
        start = time.perf_counter()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{work}/logs/{name}").run()
        times[name] = time.perf_counter() - start
    print(json.dumps(times))


if __name__ == "__main__":
    main()
