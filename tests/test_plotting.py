"""Tests of skassess.plotting: what is drawn, and files written."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from skassess.plotting import (
    plot_best_so_far,
    plot_predicted_vs_true,
    plot_tau_vs_labeled,
    save_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_predicted_vs_true_draws_finite_points_and_highlights():
    y_true = np.array([0.1, 0.5, np.nan, 0.9])
    y_pred = np.array([0.2, 0.4, 0.3, np.nan])
    ax = plot_predicted_vs_true(y_true, y_pred, highlight=[0, 1], title="t")
    points, highlighted = ax.collections
    np.testing.assert_array_equal(points.get_offsets(), [[0.1, 0.2], [0.5, 0.4]])
    assert len(highlighted.get_offsets()) == 2
    assert ax.get_title() == "t"


def test_predicted_vs_true_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        plot_predicted_vs_true([1.0, 2.0], [1.0])


def test_best_so_far_median_and_spread_with_ragged_runs():
    ax = plot_best_so_far({"a": [[1.0, 2.0, 3.0], [3.0, 3.0]], "b": np.array([0.0, 1.0])})
    lines = ax.get_lines()
    # the short run is padded with its last value: medians of (1,3), (2,3), (3,3)
    np.testing.assert_allclose(lines[0].get_ydata(), [2.0, 2.5, 3.0])
    np.testing.assert_allclose(lines[1].get_ydata(), [0.0, 1.0])
    assert len(ax.collections) == 1, "a single run has no spread band"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a (n=2)", "b (n=1)"]


def test_best_so_far_rejects_empty_runs():
    with pytest.raises(ValueError, match="non-empty"):
        plot_best_so_far({"a": [[]]})


def test_tau_vs_labeled_means_and_errorbars():
    ax = plot_tau_vs_labeled({"forest": {1000: [0.6, 0.62], 100: [0.5, 0.4]}})
    line = ax.get_lines()[0]
    np.testing.assert_allclose(np.asarray(line.get_xdata(), dtype=float), [100, 1000])
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), [0.45, 0.61])
    assert ax.get_xscale() == "log"


def test_draws_on_a_given_axes_and_saves_png(tmp_path):
    ax = Figure().add_subplot()
    assert plot_predicted_vs_true([1, 2], [2, 1], ax=ax) is ax
    path = save_figure(ax, tmp_path / "sub" / "scatter.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert path.stat().st_size > 1000
