"""Pipelines (``cdk run``): a source into a destination, state committed only after the destination's ack.

A workflow-level library: the CLI parses and prints, this package does the work and returns a
:class:`PipelineResult`.
"""

from cdk.pipelines.run import (
    PipelineConfig,
    PipelineResult,
    StreamResult,
    load_pipeline,
    run_pipeline,
    split_batches,
)

__all__ = [
    "PipelineConfig",
    "PipelineResult",
    "StreamResult",
    "load_pipeline",
    "run_pipeline",
    "split_batches",
]
