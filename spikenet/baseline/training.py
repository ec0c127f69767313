"""Training and evaluating the backprop baseline: plain PyTorch, an explicit loop, explicit seeds.

Each epoch's shuffle and dropout masks come from a generator seeded with ``(seed, epoch)``,
so that an interrupted run resumed at an epoch boundary (weights and optimiser state from the
checkpoint) continues exactly as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from ..datasets import load_dataset
from .models import weight_layers

__all__ = [
    "mnist_tensors",
    "resolve_device",
    "make_optimizer",
    "epoch_seed",
    "train_epoch",
    "predict",
    "state_to_arrays",
    "state_from_arrays",
]


def mnist_tensors(split: str, n: int, path=None, dataset: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images of a split of MNIST (or another set of its format, ``dataset``:
    :data:`spikenet.datasets.DATASETS`) as ``(float32 (n, 1, 28, 28) in [0, 1], int64 labels)``."""
    data = load_dataset(dataset, split, path)
    images = torch.from_numpy(data.images[:n].astype(np.float32) / 255.0).unsqueeze(1)
    return images, torch.from_numpy(data.labels[:n].astype(np.int64))


def resolve_device(name: str) -> torch.device:
    """``"auto"``: the first GPU if torch sees one, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def make_optimizer(model: nn.Module, protocol) -> torch.optim.Optimizer:
    """The optimiser a :class:`~spikenet.params.experiments.MnistBackpropProtocol` names."""
    if protocol.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=protocol.learning_rate, weight_decay=protocol.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=protocol.learning_rate, momentum=protocol.momentum,
                           weight_decay=protocol.weight_decay)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's shuffle and dropout (independent of where a run was resumed)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def _with_weight_noise(model: nn.Module, relative_std: float, generator: torch.Generator):
    """Add Gaussian noise (std ``relative_std`` x the layer's max |w|) to every weight in place;
    returns the clean weights to put back after the backward pass (noise-aware training as in
    Joshi et al., Nat. Commun. 11:2473, 2020: the gradient taken at the noisy weights updates
    the clean ones)."""
    clean = []
    with torch.no_grad():
        for layer in weight_layers(model):
            w = layer.weight
            clean.append(w.detach().clone())
            noise = torch.randn(w.shape, generator=generator, device=w.device, dtype=w.dtype)
            w.add_(noise * relative_std * w.abs().max())
    return clean


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int,
    seed: int,
    weight_noise: float = 0.0,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """One pass over ``images`` in shuffled mini-batches; returns mean loss and training accuracy.

    Parameters
    ----------
    seed
        Seeds the shuffle, dropout and weight noise of this epoch (:func:`epoch_seed`).
    weight_noise
        Noise-aware training (see :func:`_with_weight_noise`); 0 for plain training.
    on_batch
        Called with the number of images of each finished batch (a progress bar's ``update``).
    """
    device = next(model.parameters()).device
    shuffle = torch.Generator().manual_seed(seed)
    noise = torch.Generator(device=device).manual_seed(seed + 1)
    torch.manual_seed(seed + 2)  # dropout draws from the global generator
    order = torch.randperm(len(images), generator=shuffle)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    model.train()
    total_loss, correct = 0.0, 0
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        x, y = images[index].to(device), labels[index].to(device)
        clean = _with_weight_noise(model, weight_noise, noise) if weight_noise > 0 else None
        logits = model(x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad(set_to_none=True)
        (loss / len(index)).backward()
        if clean is not None:
            with torch.no_grad():
                for layer, w in zip(weight_layers(model), clean):
                    layer.weight.copy_(w)
        optimizer.step()
        total_loss += loss.item()
        correct += int((logits.argmax(1) == y).sum())
        if on_batch is not None:
            on_batch(len(index))
    return {"loss": total_loss / len(images), "train_accuracy": correct / len(images)}


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Predicted classes of ``images`` (evaluation mode: no dropout)."""
    device = next(model.parameters()).device
    model.eval()
    out = [model(images[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy()


def state_to_arrays(model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Model and optimiser state as NumPy arrays plus JSON metadata (for :func:`spikenet.runs.save_checkpoint`)."""
    arrays = {f"model.{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for index, state in opt["state"].items():
        for key, value in state.items():
            arrays[f"opt.{index}.{key}"] = torch.as_tensor(value).detach().cpu().numpy()
    return arrays, {"param_groups": opt["param_groups"]}


def state_from_arrays(model: nn.Module, optimizer: torch.optim.Optimizer, arrays: Mapping[str, np.ndarray],
                      meta: Mapping[str, Any]) -> None:
    """Restore what :func:`state_to_arrays` saved."""
    device = next(model.parameters()).device
    model.load_state_dict({k[len("model."):]: torch.from_numpy(v) for k, v in arrays.items()
                           if k.startswith("model.")})
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in arrays.items():
        if key.startswith("opt."):
            _, index, name = key.split(".", 2)
            tensor = torch.from_numpy(np.array(value))
            state.setdefault(int(index), {})[name] = tensor if name == "step" else tensor.to(device)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
