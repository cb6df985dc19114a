"""The one training loop of skassess's networks, and its early stopping.

Every torch estimator (the auto-encoder, the GCN regressor, the assessor's
end-to-end fine-tuning, the Neural Predictor) trains the same way: epochs over
a set of rows in an order drawn from the fit's own generator, minibatches,
Adam with L2 (``weight_decay``), and a learning rate that decays to zero
along a cosine over all the steps (or stays constant, for the auto-encoder,
which stops on a tolerance). What differs is the loss of a
minibatch (``step``) and what happens after an epoch (``after_epoch``:
rebuilding the relation graph, checking a validation score), which the
estimators pass in. :func:`fit_scores` is that loop for a network that
scores rows: it trains on the labeled rows with a ranking (or regression)
loss, and keeps the epoch with the best validation Kendall tau when asked.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable, Iterable

import numpy as np
import torch

from skassess.metrics import kendall_tau
from skassess.nn._heads import dropout_generator
from skassess.nn._losses import training_loss, training_targets

__all__ = ["EarlyStopping", "fit_scores", "train_epochs", "validation_split"]


def train_epochs(
    step: Callable[[torch.Tensor], torch.Tensor],
    parameters: Iterable[torch.nn.Parameter],
    n_rows: int,
    *,
    max_iter: int,
    batch_size: int,
    learning_rate_init: float,
    alpha: float,
    generator: torch.Generator,
    after_epoch: Callable[[int, float], bool] | None = None,
    cosine: bool = True,
    verbose: int = 0,
    label: str = "epoch",
) -> list[float]:
    """Train for up to ``max_iter`` epochs over ``n_rows`` rows; return the loss curve.

    Parameters
    ----------
    step : callable
        ``step(rows)`` returns the loss of a minibatch, given the positions
        (a CPU int64 tensor) of its rows among the ``n_rows``.
    parameters : iterable of Parameter
        What Adam optimises.
    n_rows : int
        Rows per epoch.
    max_iter : int
        Epochs at most.
    batch_size : int
        Rows per step (at most ``n_rows``).
    learning_rate_init : float
        Adam's step size (at the start, with ``cosine``).
    alpha : float
        L2 penalty (Adam's ``weight_decay``).
    generator : torch.Generator
        The fit's CPU generator: it orders the rows of every epoch.
    after_epoch : callable, optional
        ``after_epoch(epoch, mean_loss)`` after each epoch; returning True stops.
    cosine : bool, default=True
        Decay the step size to zero along a cosine over all the steps; else
        keep it constant (for training that stops on a tolerance).
    verbose : int, default=0
        Print each epoch's loss and time when positive.
    label : str, default="epoch"
        Prefix of the printed lines.

    Returns
    -------
    list of float
        Mean loss of each epoch run.

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> target = torch.tensor([1.0, 2.0, 3.0])
    >>> curve = train_epochs(
    ...     lambda rows: ((w - target[rows]) ** 2).mean(), [w], 3, max_iter=50,
    ...     batch_size=3, learning_rate_init=0.1, alpha=0.0,
    ...     generator=torch.Generator().manual_seed(0))
    >>> curve[-1] < curve[0]
    True
    """
    batch_size = min(batch_size, n_rows)
    optimizer = torch.optim.Adam(parameters, lr=learning_rate_init, weight_decay=alpha)
    n_steps = -(-n_rows // batch_size) * max_iter
    schedule = None
    if cosine:
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(n_steps, 1))
    curve: list[float] = []
    for epoch in range(max_iter):
        start = time.perf_counter()
        order = torch.randperm(n_rows, generator=generator)
        total = 0.0
        for first in range(0, n_rows, batch_size):
            rows = order[first : first + batch_size]
            loss = step(rows)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            total += loss.item() * len(rows)
        curve.append(total / n_rows)
        if verbose:
            elapsed = time.perf_counter() - start
            print(f"{label} {epoch + 1}: loss {curve[-1]:.5f} ({elapsed:.2f} s)")
        if after_epoch is not None and after_epoch(epoch, curve[-1]):
            break
    return curve


class EarlyStopping:
    """Keep a module's best weights by a score; say when to stop.

    Parameters
    ----------
    patience : int
        Stop after this many epochs without an improvement larger than ``tol``.
    tol : float, default=0.0

    Attributes
    ----------
    best_score : float
        Best score seen (``-inf`` before any).
    scores : list of float
        Every score given to :meth:`update`.

    Examples
    --------
    >>> import torch
    >>> stopper = EarlyStopping(patience=1)
    >>> module = torch.nn.Linear(1, 1)
    >>> stopper.update(0.5, module), stopper.update(0.4, module)
    (False, True)
    >>> stopper.best_score
    0.5
    """

    def __init__(self, patience: int, tol: float = 0.0) -> None:
        self.patience = patience
        self.tol = tol
        self.best_score = -np.inf
        self.scores: list[float] = []
        self._best_state: dict | None = None
        self._stale = 0

    def update(self, score: float, module: torch.nn.Module | None = None) -> bool:
        """Record ``score`` (higher is better) and return True when it is time to stop.

        When ``score`` is the best so far, ``module``'s weights are kept (if given).
        """
        self.scores.append(float(score))
        self._stale = 0 if score > self.best_score + self.tol else self._stale + 1
        if score > self.best_score:
            self.best_score = float(score)
            if module is not None:
                self._best_state = copy.deepcopy(module.state_dict())
        return self._stale >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        """Load the best weights seen into ``module`` (a no-op before any update)."""
        if self._best_state is not None:
            module.load_state_dict(self._best_state)


def fit_scores(
    score: Callable[[torch.Tensor], torch.Tensor],
    network: torch.nn.Module,
    rows: np.ndarray,
    target: np.ndarray,
    *,
    loss: str,
    max_iter: int,
    batch_size: int,
    learning_rate_init: float,
    alpha: float,
    generator: torch.Generator,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    n_iter_no_change: int | None = None,
    tol: float = 0.0,
    regulariser: Callable[[], torch.Tensor] | None = None,
    after_epoch: Callable[[int], None] | None = None,
    verbose: int = 0,
    label: str = "epoch",
) -> tuple[list[float], EarlyStopping | None]:
    """Train ``network`` so that ``score(rows)`` orders ``rows`` as ``target`` does.

    Parameters
    ----------
    score : callable
        ``score(rows)`` gives the scores (b,) of rows (an int64 tensor on the
        network's device), with gradients.
    network : torch.nn.Module
        Holds every trained parameter; in training mode during the epochs
        (dropout draws from ``generator``), in evaluation mode afterwards.
    rows : ndarray of int
        The labeled rows to train on.
    target : ndarray of shape (len(rows),)
        Their targets.
    loss : {"pairwise_logistic", "pairwise_hinge", "mse"}
        See :func:`skassess.nn.training_loss`; ``"mse"`` fits Gaussianised ranks.
    max_iter, batch_size, learning_rate_init, alpha, generator
        As in :func:`train_epochs`.
    validation : (rows, target), optional
        Held-out labeled rows: after each epoch their Kendall tau is measured,
        the best epoch's weights are restored at the end, and training stops
        after ``n_iter_no_change`` epochs without improving by ``tol``.
    n_iter_no_change : int, optional
        Without ``validation``, stop when the training loss has not improved
        by ``tol`` for this many epochs (``None``: run every epoch).
    tol : float, default=0.0
    regulariser : callable, optional
        A loss term added to every step (e.g. the auto-encoder's reconstruction).
    after_epoch : callable, optional
        ``after_epoch(epoch)`` after each epoch, before validation (e.g. to
        rebuild the relation graph from the current embeddings).
    verbose, label
        As in :func:`train_epochs`.

    Returns
    -------
    curve : list of float
        Mean training loss of each epoch.
    stopper : EarlyStopping or None
        Its ``scores`` are the validation taus (or negated losses).
    """
    device = next(network.parameters()).device
    rows_t = torch.as_tensor(rows, device=device)
    goal = torch.as_tensor(training_targets(loss, target), dtype=torch.float32, device=device)

    def step(picked: torch.Tensor) -> torch.Tensor:
        picked = picked.to(device)
        value = training_loss(loss, score(rows_t[picked]), goal[picked])
        return value if regulariser is None else value + regulariser()

    patience = n_iter_no_change if validation is None else (n_iter_no_change or max_iter)
    stopper = None if patience is None else EarlyStopping(patience, tol)

    def end_of_epoch(epoch: int, mean_loss: float) -> bool:
        if after_epoch is not None:
            after_epoch(epoch)
        if stopper is None:
            return False
        if validation is None:
            return stopper.update(-mean_loss)
        tau = _validation_tau(score, network, validation, device)
        if verbose:
            print(f"{label} {epoch + 1}: validation tau {tau:.4f}")
        return stopper.update(tau, network)

    network.train()
    with dropout_generator(network, generator):
        curve = train_epochs(
            step,
            network.parameters(),
            len(rows),
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            alpha=alpha,
            generator=generator,
            after_epoch=end_of_epoch,
            verbose=verbose,
            label=label,
        )
    if validation is not None:
        stopper.restore(network)
    network.eval()
    return curve, stopper


def _validation_tau(score, network, validation, device) -> float:
    """Kendall tau of the held-out rows' scores, in evaluation mode (NaN when constant)."""
    rows, target = validation
    network.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant early score is a NaN tau, not news
        scores = score(torch.as_tensor(rows, device=device)).double().cpu().numpy()
        tau = kendall_tau(target, scores)
    network.train()
    return tau


def validation_split(
    labeled: np.ndarray, fraction: float, rng: np.random.RandomState, *, min_train: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Split labeled rows into training and held-out rows (at least 2 held out).

    Parameters
    ----------
    labeled : ndarray of int
        The labeled rows.
    fraction : float
        Share of them held out (rounded up).
    rng : RandomState
        Draws the held-out rows.
    min_train : int, default=2
        Rows that must stay for training.

    Returns
    -------
    train, validation : ndarray of int, sorted

    Examples
    --------
    >>> import numpy as np
    >>> train, held_out = validation_split(np.arange(10), 0.2, np.random.RandomState(0))
    >>> len(train), len(held_out)
    (8, 2)
    """
    n_validation = int(np.ceil(fraction * len(labeled)))
    n_validation = min(max(n_validation, 2), len(labeled) - min_train)
    if n_validation < 2:
        raise ValueError(
            f"early stopping needs at least {min_train + 2} labeled rows, got {len(labeled)}"
        )
    shuffled = rng.permutation(labeled)
    return np.sort(shuffled[n_validation:]), np.sort(shuffled[:n_validation])
