"""Memristive device models that store synaptic weights ("device" alone means Brian2's
code-generation target, hence the name).

* :class:`DeviceArray` (NumPy): many devices of one card, vectorised: pulses, rule requests,
  read with noise and drift, write-verify programming. For figures, references and tests.
* :func:`brian2_device`: the same model as Brian2 synapse code, which
  :func:`spikenet.plasticity.synapses` puts under any learning rule.
* :class:`spikenet.memristive.torch_models.TorchDeviceArray`: the same model on torch tensors
  (optional ``torch`` extra; import it from its module).
* :mod:`spikenet.memristive.models`: one module per model kind, registered by its parameter
  class (:func:`model_of`); each declares its equations once for all of the above.
"""

from .brian2_code import Brian2Device, brian2_device, device_namespace, initial_device_state
from .models import DeviceModel, model_of
from .numpy_models import DeviceArray, drifted, exp_curve_step, pulses_per_range, read_signal

__all__ = ["DeviceArray", "Brian2Device", "brian2_device", "device_namespace", "initial_device_state", "exp_curve_step",
           "pulses_per_range", "drifted", "read_signal", "DeviceModel", "model_of"]
