"""The topic map as a picture: a matplotlib figure of the 2-D PCA, one colour per topic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rag.analytics.topics import TopicMap

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def draw_map(topic_map: TopicMap, *, title: str = "Topic map") -> Figure:
    """A matplotlib Figure of the PCA map, one colour per cluster, labelled in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 6), dpi=100)
    axes = figure.add_subplot()
    colours = matplotlib.colormaps["tab20"]
    for i, cluster in enumerate(topic_map.clusters):
        points = topic_map.coords[topic_map.assignments == i]
        axes.scatter(
            points[:, 0],
            points[:, 1],
            s=12,
            alpha=0.75,
            color=colours(i % 20),
            label=f"{cluster.label} ({cluster.size})",
        )
    axes.set_title(title)
    axes.set_xlabel("PC 1")
    axes.set_ylabel("PC 2")
    axes.legend(fontsize="small", loc="best", markerscale=1.5)
    figure.tight_layout()
    return figure


def save_png(topic_map: TopicMap, path: Path, *, title: str = "Topic map") -> None:
    figure = draw_map(topic_map, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
