"""Experiment runners: one module per experiment kind.

Each module declares its :class:`~spikenet.running.Contract` as ``CONTRACT`` and defines
``simulate`` and ``draw`` (and optionally ``check`` and ``check_checkpoint``), as
:mod:`spikenet.running` describes; :func:`spikenet.running.runners` finds them. Run a card with
:func:`spikenet.running.run_experiment`.
"""
