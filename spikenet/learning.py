"""Label assignment and evaluation of an unsupervised spiking layer (Diehl & Cook 2015).

After training, each excitatory neuron is assigned the class to which it responded most on
average over an assignment set; a test example is classified as the class whose assigned
neurons have the highest mean spike count. Plain NumPy, on spike-count matrices, so it is tested
on synthetic responses with known answers and used unchanged by every engine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["assign_labels", "classify", "confusion_matrix", "evaluate", "NO_ANSWER"]

NO_ANSWER = -1
"""The prediction for an example that made no assigned neuron fire (counted as wrong)."""


def assign_labels(counts: np.ndarray, labels: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """The class each neuron responds to most: ``argmax_c mean(counts[labels == c, neuron])``.

    Parameters
    ----------
    counts
        Spike counts, shape ``(n_examples, n_neurons)``.
    labels
        True class of each example, shape ``(n_examples,)``, values ``0 .. n_classes - 1``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_neurons,)``: the assigned class, or ``NO_ANSWER`` for a neuron that never fired.
    """
    counts = np.asarray(counts, float)
    labels = np.asarray(labels)
    if counts.ndim != 2 or counts.shape[0] != labels.shape[0]:
        raise ValueError(f"counts {counts.shape} and labels {labels.shape} do not match")
    means = np.full((n_classes, counts.shape[1]), -np.inf)
    for c in range(n_classes):
        members = labels == c
        if members.any():
            means[c] = counts[members].mean(axis=0)
    assigned = np.argmax(means, axis=0)
    assigned[counts.sum(axis=0) == 0] = NO_ANSWER
    return assigned


def classify(counts: np.ndarray, assignments: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Predict each example's class: the class whose assigned neurons fire most on average."""
    counts = np.asarray(counts, float)
    scores = np.full((counts.shape[0], n_classes), -np.inf)
    for c in range(n_classes):
        members = assignments == c
        if members.any():
            scores[:, c] = counts[:, members].mean(axis=1)
    predictions = np.argmax(scores, axis=1)
    silent = ~np.isfinite(scores).any(axis=1) | (np.max(np.where(np.isfinite(scores), scores, 0), axis=1) <= 0)
    predictions[silent] = NO_ANSWER
    return predictions


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts ``[true, predicted]``; the last column holds examples with no answer."""
    matrix = np.zeros((n_classes, n_classes + 1), dtype=int)
    columns = np.where(predictions == NO_ANSWER, n_classes, predictions)
    np.add.at(matrix, (np.asarray(labels), columns), 1)
    return matrix


def evaluate(labels: np.ndarray, predictions: np.ndarray, n_classes: int = 10) -> dict:
    """Accuracy, per-class accuracy, the fraction without an answer, and the confusion matrix."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    matrix = confusion_matrix(labels, predictions, n_classes)
    per_class = np.diag(matrix[:, :n_classes]) / np.maximum(matrix.sum(axis=1), 1)
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "per_class_accuracy": per_class.tolist(),
        "no_answer_fraction": float(np.mean(predictions == NO_ANSWER)),
        "confusion_matrix": matrix.tolist(),
    }
