"""Label assignment and evaluation on synthetic responses with known answers; input encoding."""

import numpy as np
import pytest
from brian2 import Hz

from spikenet.encoding import pixel_rates
from spikenet.learning import NO_ANSWER, assign_labels, classify, confusion_matrix, evaluate


def tuned_responses(rng, n_examples, n_neurons, rate_tuned, rate_other):
    """Neuron j prefers class j % 10; Poisson counts."""
    labels = rng.integers(0, 10, n_examples)
    preferred = np.arange(n_neurons) % 10
    rates = np.where(preferred[None, :] == labels[:, None], rate_tuned, rate_other)
    return rng.poisson(rates), labels, preferred


def test_noise_free_tuning_is_recovered_exactly():
    rng = np.random.default_rng(0)
    counts, labels, preferred = tuned_responses(rng, 500, 30, 5.0, 0.0)
    assigned = assign_labels(counts, labels)
    np.testing.assert_array_equal(assigned, preferred)
    result = evaluate(labels, classify(counts, assigned))
    assert result["accuracy"] == pytest.approx(1 - np.mean(counts.sum(axis=1) == 0))


def test_noisy_tuning_classifies_well_and_random_responses_do_not():
    rng = np.random.default_rng(1)
    counts, labels, _ = tuned_responses(rng, 4000, 100, 3.0, 1.0)
    assigned = assign_labels(counts[:2000], labels[:2000])
    accuracy = evaluate(labels[2000:], classify(counts[2000:], assigned))["accuracy"]
    assert accuracy > 0.9
    random_counts = rng.poisson(2.0, size=(4000, 100))
    assigned = assign_labels(random_counts[:2000], labels[:2000])
    chance = evaluate(labels[2000:], classify(random_counts[2000:], assigned))["accuracy"]
    assert abs(chance - 0.1) < 4 * np.sqrt(0.1 * 0.9 / 2000)  # chance, within 4 standard errors


def test_silent_neurons_and_silent_examples():
    counts = np.array([[3, 0, 0], [0, 2, 0], [0, 0, 0]])
    labels = np.array([4, 7, 1])
    assigned = assign_labels(counts, labels)
    assert assigned.tolist() == [4, 7, NO_ANSWER]
    predictions = classify(counts, assigned)
    assert predictions.tolist() == [4, 7, NO_ANSWER]
    matrix = confusion_matrix(labels, predictions)
    assert matrix[1, 10] == 1 and matrix[4, 4] == 1 and matrix.sum() == 3
    result = evaluate(labels, predictions)
    assert result["accuracy"] == pytest.approx(2 / 3) and result["no_answer_fraction"] == pytest.approx(1 / 3)


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="do not match"):
        assign_labels(np.zeros((3, 2)), np.zeros(4, int))


def test_pixel_rates_follow_diehl_and_cook():
    rates = pixel_rates(np.array([0, 128, 255], np.uint8), intensity=2)
    np.testing.assert_allclose(rates / Hz, [0.0, 32.0, 63.75])
    np.testing.assert_allclose(pixel_rates(np.array([255]), intensity=3) / Hz, [95.625])
    with pytest.raises(ValueError):
        pixel_rates(np.array([300.0]))
